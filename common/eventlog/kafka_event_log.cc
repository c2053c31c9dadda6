#include "common/eventlog/kafka_event_log.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/process/thread_name.h"

namespace crm::eventlog {
namespace {

int Millis(absl::Duration d) { return static_cast<int>(absl::ToInt64Milliseconds(d)); }

// Translates a librdkafka error once, here. Errors the caller may retry become UNAVAILABLE.
absl::Status FromKafka(rd_kafka_resp_err_t err, std::string_view what) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
  const std::string msg = absl::StrCat("kafka: ", std::string(what), ": ", rd_kafka_err2str(err));
  switch (err) {
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
      return absl::DeadlineExceededError(msg);
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
      return absl::NotFoundError(msg);
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
      return absl::InvalidArgumentError(msg);
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
      return absl::ResourceExhaustedError(msg);
    default:
      return absl::UnavailableError(msg);
  }
}

absl::Status SetAll(rd_kafka_conf_t* conf, const std::map<std::string, std::string>& props) {
  char err[512];
  for (const auto& [k, v] : props) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
      return absl::InvalidArgumentError(absl::StrCat("kafka property ", k, "=", v, ": ", err));
    }
  }
  return absl::OkStatus();
}

void Quiet(const rd_kafka_t*, int level, const char* fac, const char* buf) {
  // librdkafka's own log; warnings and worse go to stderr.
  if (level <= 4) fprintf(stderr, "rdkafka %s: %s\n", fac, buf);
}

std::string_view View(const void* data, size_t size) {
  return data == nullptr ? std::string_view()
                         : std::string_view(static_cast<const char*>(data), size);
}

}  // namespace

class KafkaEventLog::Reader final : public LogReader {
 public:
  Reader(KafkaEventLog* log, rd_kafka_t* consumer, std::map<TopicPartition, int64_t> next)
      : log_(log),
        consumer_(consumer),
        queue_(rd_kafka_queue_get_consumer(consumer)),
        next_(std::move(next)) {
    for (const auto& [tp, offset] : next_) partitions_.insert(tp);
    absl::MutexLock lock(&log_->own_mu_);
    log_->readers_.insert(this);
  }
  ~Reader() override {
    {
      absl::MutexLock lock(&log_->own_mu_);
      log_->readers_.erase(this);
    }
    rd_kafka_queue_destroy(queue_);
    rd_kafka_consumer_close(consumer_);
    rd_kafka_destroy(consumer_);
  }

  absl::Status PollInto(std::vector<LogRecord>& out, size_t max_records,
                        absl::Duration timeout) override {
    out.clear();
    absl::Status error;
    const absl::Time deadline = absl::Now() + timeout;
    while (out.size() < max_records) {
      log_->TakeOwn(next_, max_records, out);
      if (out.size() >= max_records) break;
      // Only the first record is waited for; then take what is buffered. A wait ends early when
      // this process's own append is acknowledged (Wake).
      const int wait_ms = out.empty() ? std::max(0, Millis(deadline - absl::Now())) : 0;
      rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer_, wait_ms);
      if (m == nullptr) {
        if (out.empty() && wait_ms > 0) {
          if (absl::Now() < deadline) continue;  // woken
          log_->TakeOwn(next_, max_records, out);
        }
        break;
      }
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        int64_t& next = next_[{rd_kafka_topic_name(m->rkt), m->partition}];
        if (m->offset >= next) {  // else taken from memory already
          out.push_back(LogRecord{rd_kafka_topic_name(m->rkt), m->partition, m->offset,
                                  std::string(View(m->key, m->key_len)),
                                  std::string(View(m->payload, m->len))});
          next = m->offset + 1;
        }
      } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        error = FromKafka(m->err, "fetch");
      }
      rd_kafka_message_destroy(m);
    }
    if (out.empty()) return error;
    return absl::OkStatus();
  }

  // Whether it reads `tp` (any thread: the set does not change).
  bool Reads(const TopicPartition& tp) const { return partitions_.contains(tp); }
  // Ends a wait in Poll.
  void Wake() { rd_kafka_queue_yield(queue_); }

 private:
  KafkaEventLog* const log_;
  rd_kafka_t* const consumer_;
  rd_kafka_queue_t* const queue_;
  std::set<TopicPartition> partitions_;     // those it was opened on
  std::map<TopicPartition, int64_t> next_;  // the offset each of them continues with
};

void KafkaEventLog::OnDelivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
  std::unique_ptr<AppendCallback> done(static_cast<AppendCallback*>(msg->_private));
  if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (done) (*done)(FromKafka(msg->err, "append"));
    return;
  }
  // Kept for this process's readers before the appender hears of it, so that a reader asked to
  // wait for the position finds the record.
  static_cast<KafkaEventLog*>(opaque)->Acknowledged({rd_kafka_topic_name(msg->rkt), msg->partition},
                                                    msg->offset, View(msg->key, msg->key_len),
                                                    View(msg->payload, msg->len));
  if (done) (*done)(LogPosition{rd_kafka_topic_name(msg->rkt), msg->partition, msg->offset});
}

void KafkaEventLog::Acknowledged(const TopicPartition& tp, int64_t offset, std::string_view key,
                                 std::string_view value) {
  absl::MutexLock lock(&own_mu_);
  bool read_here = false;
  for (Reader* r : readers_) {
    if (r->Reads(tp)) read_here = true;
  }
  if (!read_here) return;  // a topic this process only writes
  std::map<int64_t, OwnRecord>& kept = own_[tp];
  kept[offset] = OwnRecord{std::string(key), std::string(value)};
  while (kept.size() > kOwnRecordsPerPartition) kept.erase(kept.begin());
  for (Reader* r : readers_) {
    if (r->Reads(tp)) r->Wake();
  }
}

void KafkaEventLog::TakeOwn(std::map<TopicPartition, int64_t>& next, size_t max_records,
                            std::vector<LogRecord>& out) {
  absl::MutexLock lock(&own_mu_);
  for (auto& [tp, offset] : next) {
    auto kept = own_.find(tp);
    if (kept == own_.end()) continue;
    for (auto it = kept->second.find(offset);
         it != kept->second.end() && it->first == offset && out.size() < max_records; ++it) {
      out.push_back(LogRecord{tp.first, tp.second, offset, it->second.key, it->second.value});
      ++offset;
    }
  }
}

absl::StatusOr<std::unique_ptr<KafkaEventLog>> KafkaEventLog::Open(
    const KafkaEventLogOptions& options) {
  if (options.brokers.empty()) {
    return absl::InvalidArgumentError("kafka: no bootstrap servers configured");
  }
  std::map<std::string, std::string> props = {
      {"bootstrap.servers", options.brokers},
      {"client.id", options.client_id},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      // A short linger groups concurrent appends into one produce request.
      {"linger.ms", "1"},
      {"message.timeout.ms", std::to_string(absl::ToInt64Milliseconds(options.delivery_timeout))},
      {"socket.connection.setup.timeout.ms", "5000"},
      {"reconnect.backoff.max.ms", "1000"},
  };
  for (const auto& [k, v] : options.properties) props[k] = v;
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (absl::Status s = SetAll(conf, props); !s.ok()) {
    rd_kafka_conf_destroy(conf);
    return s;
  }
  rd_kafka_conf_set_dr_msg_cb(conf, &OnDelivery);
  rd_kafka_conf_set_log_cb(conf, &Quiet);
  // The delivery reports' opaque: the log, whose Start then polls the producer for them.
  auto log = std::unique_ptr<KafkaEventLog>(new KafkaEventLog(options));
  rd_kafka_conf_set_opaque(conf, log.get());
  char err[512];
  rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (producer == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InvalidArgumentError(absl::StrCat("kafka: ", err));
  }
  log->Start(producer);
  return log;
}

KafkaEventLog::KafkaEventLog(KafkaEventLogOptions options) : options_(std::move(options)) {}

void KafkaEventLog::Start(rd_kafka_s* producer) {
  producer_ = producer;
  poller_ = std::thread([this] {
    process::NameThisThread("kafka-poll");
    PollLoop();
  });
}

KafkaEventLog::~KafkaEventLog() {
  if (producer_ == nullptr) return;  // Open failed before Start
  rd_kafka_flush(producer_, Millis(options_.delivery_timeout));
  stopping_ = true;
  poller_.join();
  // Anything still queued fails now; rd_kafka_destroy runs the remaining delivery callbacks.
  rd_kafka_purge(producer_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_poll(producer_, 0);
  rd_kafka_destroy(producer_);
}

void KafkaEventLog::PollLoop() {
  while (!stopping_) rd_kafka_poll(producer_, 50);
}

void KafkaEventLog::AppendRaw(std::string_view topic, std::string_view key, std::string_view value,
                              AppendCallback done) {
  auto* owned = new AppendCallback(std::move(done));
  const std::string topic_name(topic);
  // produceva rather than producev: the RD_KAFKA_V_* macros are GNU statement expressions.
  rd_kafka_vu_t vus[5];
  vus[0].vtype = RD_KAFKA_VTYPE_TOPIC;
  vus[0].u.cstr = topic_name.c_str();
  vus[1].vtype = RD_KAFKA_VTYPE_KEY;
  vus[1].u.mem.ptr = const_cast<char*>(key.data());
  vus[1].u.mem.size = key.size();
  vus[2].vtype = RD_KAFKA_VTYPE_VALUE;
  vus[2].u.mem.ptr = const_cast<char*>(value.data());
  vus[2].u.mem.size = value.size();
  vus[3].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
  vus[3].u.i = RD_KAFKA_MSG_F_COPY;
  vus[4].vtype = RD_KAFKA_VTYPE_OPAQUE;
  vus[4].u.ptr = owned;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  if (rd_kafka_error_t* error = rd_kafka_produceva(producer_, vus, 5); error != nullptr) {
    err = rd_kafka_error_code(error);
    rd_kafka_error_destroy(error);
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    std::unique_ptr<AppendCallback> cb(owned);
    (*cb)(FromKafka(err, "append"));
  }
}

absl::StatusOr<int32_t> KafkaEventLog::PartitionCount(std::string_view topic) {
  // Ask for every topic: a metadata request naming the topic would let a broker with
  // auto.create.topics.enable create it, with the broker's default partition count.
  const rd_kafka_metadata_t* md = nullptr;
  const rd_kafka_resp_err_t err =
      rd_kafka_metadata(producer_, 1, nullptr, &md, Millis(options_.request_timeout));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return FromKafka(err, "metadata");
  absl::StatusOr<int32_t> result = absl::NotFoundError(
      absl::StrCat("kafka: topic ", std::string(topic),
                   " does not exist; create it (deploy/kafka) or start crm-devbroker"));
  for (int i = 0; i < md->topic_cnt; ++i) {
    if (topic != md->topics[i].topic) continue;
    if (md->topics[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      result = FromKafka(md->topics[i].err, absl::StrCat("metadata of ", std::string(topic)));
    } else if (md->topics[i].partition_cnt > 0) {
      result = md->topics[i].partition_cnt;
    }
  }
  rd_kafka_metadata_destroy(md);
  return result;
}

absl::StatusOr<int64_t> KafkaEventLog::EndOffset(std::string_view topic, int32_t partition) {
  // ListOffsets at "latest" (timestamp -1) through offsets_for_times, which honours its
  // timeout: librdkafka 2.0's rd_kafka_query_watermark_offsets waits forever while the
  // partition's broker is down (librdkafka #2588, fixed in 2.3), and readiness must notice.
  const std::string name(topic);
  std::unique_ptr<rd_kafka_topic_partition_list_t, void (*)(rd_kafka_topic_partition_list_t*)> list(
      rd_kafka_topic_partition_list_new(1), rd_kafka_topic_partition_list_destroy);
  rd_kafka_topic_partition_list_add(list.get(), name.c_str(), partition)->offset =
      RD_KAFKA_OFFSET_END;
  const rd_kafka_resp_err_t err =
      rd_kafka_offsets_for_times(producer_, list.get(), Millis(options_.request_timeout));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return FromKafka(err, "end offset");
  const rd_kafka_topic_partition_t& p = list->elems[0];
  if (p.err != RD_KAFKA_RESP_ERR_NO_ERROR) return FromKafka(p.err, "end offset");
  return p.offset;
}

absl::StatusOr<std::unique_ptr<LogReader>> KafkaEventLog::OpenReader(
    std::vector<PartitionStart> starts) {
  std::map<std::string, std::string> props = {
      {"bootstrap.servers", options_.brokers},
      {"client.id", options_.client_id},
      // Required by librdkafka for a consumer handle; nothing is committed to it.
      {"group.id", "crm-projection"},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "earliest"},
      // Latency over batching: a writer waits for its projection to apply its event.
      {"fetch.wait.max.ms", "10"},
      {"fetch.min.bytes", "1"},
      {"fetch.error.backoff.ms", "20"},
      {"socket.connection.setup.timeout.ms", "5000"},
      {"reconnect.backoff.max.ms", "1000"},
  };
  for (const auto& [k, v] : options_.properties) props[k] = v;
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (absl::Status s = SetAll(conf, props); !s.ok()) {
    rd_kafka_conf_destroy(conf);
    return s;
  }
  rd_kafka_conf_set_log_cb(conf, &Quiet);
  char err[512];
  rd_kafka_t* consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
  if (consumer == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InvalidArgumentError(absl::StrCat("kafka: ", err));
  }
  std::map<TopicPartition, int64_t> next;
  for (const PartitionStart& s : starts) next[{s.topic, s.partition}] = s.offset;
  auto reader = std::make_unique<Reader>(this, consumer, std::move(next));
  rd_kafka_poll_set_consumer(consumer);
  rd_kafka_topic_partition_list_t* list =
      rd_kafka_topic_partition_list_new(static_cast<int>(starts.size()));
  for (const PartitionStart& s : starts) {
    rd_kafka_topic_partition_list_add(list, s.topic.c_str(), s.partition)->offset = s.offset;
  }
  const rd_kafka_resp_err_t e = rd_kafka_assign(consumer, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) return FromKafka(e, "assign");
  return reader;
}

absl::Status KafkaEventLog::Flush(absl::Duration timeout) {
  return FromKafka(rd_kafka_flush(producer_, Millis(timeout)), "flush");
}

}  // namespace crm::eventlog
