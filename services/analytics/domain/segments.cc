#include "services/analytics/domain/segments.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/projection/aggregate.h"

namespace crm::analytics {

namespace cv1 = crm::contact::v1;
using projection::TimestampNanos;

RfmScorer::RfmScorer(const std::vector<RfmKey>& population) {
  for (const RfmKey& k : population) {
    recency_.push_back(k.recency_nanos);
    frequency_.push_back(k.purchase_days);
    monetary_.push_back(k.revenue_minor);
  }
  std::sort(recency_.begin(), recency_.end());
  std::sort(frequency_.begin(), frequency_.end());
  std::sort(monetary_.begin(), monetary_.end());
}

RfmScores RfmScorer::Score(const RfmKey& key) const {
  const int64_t n = static_cast<int64_t>(recency_.size());
  auto score = [n](int64_t worse) {
    return n == 0 ? 0 : static_cast<int32_t>(1 + (5 * worse) / n);
  };
  // Worse: a longer recency (strictly greater), fewer days or less revenue (strictly less).
  const int64_t worse_r =
      recency_.end() - std::upper_bound(recency_.begin(), recency_.end(), key.recency_nanos);
  const int64_t worse_f =
      std::lower_bound(frequency_.begin(), frequency_.end(), key.purchase_days) -
      frequency_.begin();
  const int64_t worse_m =
      std::lower_bound(monetary_.begin(), monetary_.end(), key.revenue_minor) - monetary_.begin();
  RfmScores s;
  s.set_recency(score(worse_r));
  s.set_frequency(score(worse_f));
  s.set_monetary(score(worse_m));
  s.set_customers(static_cast<int32_t>(n));
  return s;
}

bool UsesRfm(const SegmentFilter& f) {
  return f.has_recency() || f.has_frequency() || f.has_monetary();
}

bool UsesInteractions(const SegmentFilter& f) { return f.interacted_within_days() > 0; }

bool ConsentGranted(const cv1::Contact& contact, cv1::ConsentChannel channel) {
  const cv1::Consent* latest = nullptr;
  for (const cv1::Consent& c : contact.consents()) {
    if (c.channel() != channel) continue;
    if (latest == nullptr ||
        TimestampNanos(c.recorded_at()) >= TimestampNanos(latest->recorded_at())) {
      latest = &c;
    }
  }
  return latest != nullptr && latest->status() == cv1::CONSENT_STATUS_GRANTED;
}

namespace {

bool InBand(const crm::analytics::v1::RfmBand& band, int32_t score) {
  return score >= band.min() && score <= band.max();
}

int MonthOf(const google::protobuf::Timestamp& t) {
  return absl::ToCivilMonth(absl::FromUnixSeconds(t.seconds()), absl::UTCTimeZone()).month();
}

}  // namespace

bool Matches(const SegmentFilter& f, const CustomerView& v, int64_t as_of) {
  const cv1::Contact& c = *v.contact;
  if (!f.lifecycle_stages().empty() &&
      std::find(f.lifecycle_stages().begin(), f.lifecycle_stages().end(), c.lifecycle_stage()) ==
          f.lifecycle_stages().end()) {
    return false;
  }
  for (const std::string& tag : f.tags()) {
    const bool has = std::any_of(c.tags().begin(), c.tags().end(), [&](const std::string& t) {
      return absl::EqualsIgnoreCase(t, tag);
    });
    if (!has) return false;
  }
  if (!f.owner().empty() && c.owner() != f.owner()) return false;
  if (!f.company_industry().empty() &&
      std::find(v.industries.begin(), v.industries.end(),
                absl::AsciiStrToLower(f.company_industry())) == v.industries.end()) {
    return false;
  }
  if (f.consent_channel() != cv1::CONSENT_CHANNEL_UNSPECIFIED &&
      !ConsentGranted(c, f.consent_channel())) {
    return false;
  }
  if (UsesRfm(f)) {
    if (!v.rfm) return false;
    if (f.has_recency() && !InBand(f.recency(), v.rfm->recency())) return false;
    if (f.has_frequency() && !InBand(f.frequency(), v.rfm->frequency())) return false;
    if (f.has_monetary() && !InBand(f.monetary(), v.rfm->monetary())) return false;
  }
  if (f.has_revenue_min() && v.revenue_minor < f.revenue_min().minor_units()) return false;
  if (f.has_revenue_max() && v.revenue_minor > f.revenue_max().minor_units()) return false;
  std::optional<int64_t> last_purchase;
  bool bought = false;
  const bool wants_product = !f.bought_product_id().empty() || !f.bought_category().empty();
  const std::string category = absl::AsciiStrToLower(f.bought_category());
  for (const LedgerPurchase& p : *v.purchases) {
    const int64_t t = TimestampNanos(p.order_time());
    if (t > as_of) continue;
    last_purchase = std::max(last_purchase.value_or(t), t);
    if (!wants_product || bought) continue;
    if (f.bought_in_month() != 0 && MonthOf(p.order_time()) != f.bought_in_month()) continue;
    for (const auto& line : p.lines()) {
      if ((f.bought_product_id().empty() || line.product_id() == f.bought_product_id()) &&
          (category.empty() || v.category_of(line.product_id()) == category)) {
        bought = true;
        break;
      }
    }
  }
  if (wants_product && !bought) return false;
  if (f.has_last_purchase_before() &&
      (!last_purchase || *last_purchase >= TimestampNanos(f.last_purchase_before()))) {
    return false;
  }
  if (f.has_last_purchase_after() &&
      (!last_purchase || *last_purchase < TimestampNanos(f.last_purchase_after()))) {
    return false;
  }
  if (UsesInteractions(f)) {
    const int64_t since = as_of - int64_t{f.interacted_within_days()} * 86400 * 1000000000;
    if (!v.last_interaction_nanos || *v.last_interaction_nanos <= since) return false;
  }
  return true;
}

}  // namespace crm::analytics
