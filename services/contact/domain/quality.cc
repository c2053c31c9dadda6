#include "services/contact/domain/quality.h"

#include "absl/strings/str_cat.h"

namespace crm::contact {

namespace {

uint16_t Bit(QualityCheck c) { return static_cast<uint16_t>(1u << static_cast<int>(c)); }

void Check(CheckBits& bits, QualityCheck check, bool met) {
  bits.applicable |= Bit(check);
  if (!met) bits.missing |= Bit(check);
}

int DefaultWeight(QualityCheck check) {
  switch (check) {
    case v1::QUALITY_CHECK_NAME:
    case v1::QUALITY_CHECK_REACHABLE:
      return 3;
    case v1::QUALITY_CHECK_CONSENT:
    case v1::QUALITY_CHECK_DOMAIN:
      return 2;
    case v1::QUALITY_CHECK_OWNER:
    case v1::QUALITY_CHECK_COMPANY:
    case v1::QUALITY_CHECK_INDUSTRY:
      return 1;
    default:
      return 0;
  }
}

const char* Message(QualityCheck check) {
  switch (check) {
    case v1::QUALITY_CHECK_NAME:
      return "no name";
    case v1::QUALITY_CHECK_REACHABLE:
      return "no way to reach them: no email and no phone";
    case v1::QUALITY_CHECK_CONSENT:
      return "no consent recorded for any channel";
    case v1::QUALITY_CHECK_OWNER:
      return "no owner";
    case v1::QUALITY_CHECK_COMPANY:
      return "B2B contact (has a job title) without a company";
    case v1::QUALITY_CHECK_ADDRESS:
      return "no postal address";
    case v1::QUALITY_CHECK_DOMAIN:
      return "no internet domain";
    case v1::QUALITY_CHECK_INDUSTRY:
      return "no industry";
    default:
      return "unknown check";
  }
}

}  // namespace

const std::vector<QualityCheck>& AllChecks() {
  static const auto* all = new std::vector<QualityCheck>{
      v1::QUALITY_CHECK_NAME,   v1::QUALITY_CHECK_REACHABLE, v1::QUALITY_CHECK_CONSENT,
      v1::QUALITY_CHECK_OWNER,  v1::QUALITY_CHECK_COMPANY,   v1::QUALITY_CHECK_ADDRESS,
      v1::QUALITY_CHECK_DOMAIN, v1::QUALITY_CHECK_INDUSTRY};
  return *all;
}

CheckBits ContactChecks(const Contact& c) {
  CheckBits bits;
  const auto& p = c.personal();
  Check(bits, v1::QUALITY_CHECK_NAME, !p.given_name().empty() || !p.family_name().empty());
  Check(bits, v1::QUALITY_CHECK_REACHABLE, !p.emails().empty() || !p.phones().empty());
  Check(bits, v1::QUALITY_CHECK_CONSENT, !c.consents().empty());
  Check(bits, v1::QUALITY_CHECK_OWNER, !c.owner().empty());
  if (!c.job_title().empty()) Check(bits, v1::QUALITY_CHECK_COMPANY, !c.affiliations().empty());
  Check(bits, v1::QUALITY_CHECK_ADDRESS, !p.addresses().empty());
  return bits;
}

CheckBits CompanyChecks(const Company& c) {
  CheckBits bits;
  Check(bits, v1::QUALITY_CHECK_DOMAIN, !c.domain().empty());
  Check(bits, v1::QUALITY_CHECK_INDUSTRY, !c.industry().empty());
  Check(bits, v1::QUALITY_CHECK_OWNER, !c.owner().empty());
  Check(bits, v1::QUALITY_CHECK_ADDRESS, !c.address().country_code().empty());
  return bits;
}

DataQualityRules DefaultRules() {
  DataQualityRules rules;
  rules.set_stale_after_days(365);
  for (QualityCheck check : AllChecks()) {
    auto* w = rules.add_weights();
    w->set_check(check);
    w->set_weight(DefaultWeight(check));
  }
  return rules;
}

int Weight(const DataQualityRules& rules, QualityCheck check) {
  for (const auto& w : rules.weights()) {
    if (w.check() == check) return w.weight();
  }
  return DefaultWeight(check);
}

int Completeness(CheckBits bits, const DataQualityRules& rules) {
  int total = 0;
  int met = 0;
  for (QualityCheck check : AllChecks()) {
    if ((bits.applicable & Bit(check)) == 0) continue;
    const int w = Weight(rules, check);
    total += w;
    if ((bits.missing & Bit(check)) == 0) met += w;
  }
  return total == 0 ? 100 : (met * 100) / total;
}

DataQuality Assess(CheckBits bits, const DataQualityRules& rules,
                   const google::protobuf::Timestamp& update_time, absl::Time now) {
  DataQuality q;
  q.set_completeness(Completeness(bits, rules));
  for (QualityCheck check : AllChecks()) {
    if ((bits.missing & Bit(check)) == 0 || Weight(rules, check) == 0) continue;
    auto* issue = q.add_issues();
    issue->set_check(check);
    issue->set_message(Message(check));
  }
  const int days = rules.stale_after_days();
  if (days > 0) {
    const absl::Time updated = absl::FromUnixSeconds(update_time.seconds());
    if (now - updated > absl::Hours(24) * days) {
      q.set_stale(true);
      auto* issue = q.add_issues();
      issue->set_message(absl::StrCat("stale: not updated for more than ", days, " days"));
    }
  }
  return q;
}

}  // namespace crm::contact
