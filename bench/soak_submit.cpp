// locus-soak-submit: the submitting side of bench/soak.sh, in one process.
//
//   locus-soak-submit --rate R --threads P --end-us T --giveup-us T --out DIR
//                     [--cancel-percent 5] [--addr-file FILE] [--seed S] -- SUBMIT-ARGS...
//
// Submits the job that `locus submit SUBMIT-ARGS...` would (the request is built by the CLI's own
// buildSubmitRequest, from this process's directory and environment, and sent with a fresh MUNGE
// credential per call, as the CLI does) from P threads, each with its own long-lived channel,
// paced together at R submits/s until the wall clock reaches T (--end-us, unix microseconds, as
// bash's EPOCHREALTIME). Every "{d}" in SUBMIT-ARGS becomes a random digit 1-9, drawn per submit
// (the soak's jobs sleep 0.1-0.9 s). Why not the CLI in shell loops: one `locus submit` process
// costs about 22 ms of CPU, so loops of them saturate near 40/s on 2 cores.
//
// Accounting is the soak's (bench/soak.sh reads these files), one set per thread K = 1..P:
//   DIR/acks.K     a job id per line, written only once the controller returned it
//                  (acknowledged);
//   DIR/fails.K    "UNIX_US CODE" per failed submit attempt; every failure is retried, whatever it
//                  was, like the shell loops, with the same submit token: a call whose reply was
//                  lost (the controller SIGKILLed after committing) made a job, and the retry is
//                  answered with that job's id, so it is acknowledged once and nothing is made
//                  twice (the report lists jobs known to the controller but never acknowledged:
//                  none, unless a submit was given up). "gaveup" when one submit still failed at
//                  --giveup-us (it was never acknowledged);
//   DIR/errors.K   the failed calls' messages;
//   DIR/cancels.K  "ID RC" per cancel: after about --cancel-percent % of submits, one of the last 5
//                  jobs this thread submitted (pending, running or already ended) is cancelled; RC
//                  0 if the controller accepted it, 1 otherwise (as `locus cancel`'s exit status).
// Failed attempts back off from 50 ms to 1 s. A submit the controller refuses as invalid or not
// permitted would fail forever: that ends the run (exit 1) rather than retrying until --giveup-us.
// --addr-file names the file the controller writes its address to (STATE/controller/
// controller.addr): after a failure it is read again, and a thread whose controller moved
// reconnects there; without it, the address is $LOCUS_CONTROLLER as for the CLI.
//
// Pacing: the threads share one token bucket of R tokens/s holding at most 100 ms of them, so a
// controller outage is not followed by a burst of more than R/10 submits beyond the pace. The
// achieved rate is what the threads can get through (the last line on stderr says it).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cli/client.hpp"
#include "cli/submit_request.hpp"

namespace locus::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kFirstBackoff = std::chrono::milliseconds{50};
constexpr auto kMaxBackoff = std::chrono::seconds{1};
// The bucket holds 100 ms of tokens: enough to absorb scheduling jitter, too few for a burst.
constexpr double kBucketSeconds = 0.1;
constexpr size_t kRecentJobs = 5;  // a cancel picks one of the last 5 jobs of its thread

struct Options {
  double rate = 200;
  int threads = 8;
  int64_t end_us = 0;
  int64_t giveup_us = 0;
  std::string out;
  int cancel_percent = 5;
  std::string addr_file;
  uint64_t seed = 0;
  std::vector<std::string> submit_args;
};

int64_t unixMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Submit slots at `rate` per second, shared by every thread; take() sleeps until the next one.
class TokenBucket {
 public:
  explicit TokenBucket(double rate)
      : period_(
            std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / rate))),
        window_(std::chrono::duration_cast<Clock::duration>(
            std::chrono::duration<double>(kBucketSeconds))),
        next_(Clock::now()) {}

  // The time of this caller's slot; a slot more than the bucket's window in the past is moved up
  // (the tokens of an outage are not saved up).
  Clock::time_point take() {
    std::lock_guard lock(mu_);
    const auto now = Clock::now();
    if (next_ < now - window_) next_ = now - window_;
    const auto slot = next_;
    next_ += period_;
    return slot;
  }

 private:
  const Clock::duration period_;
  const Clock::duration window_;
  std::mutex mu_;
  Clock::time_point next_;  // guarded by mu_
};

std::string readAddress(const Options& opt, const std::string& fallback) {
  if (opt.addr_file.empty()) return fallback;
  std::ifstream in(opt.addr_file);
  std::string addr;
  if (!(in >> addr) || addr.empty()) return fallback;  // between a kill and the restart's listen
  return addr;
}

const char* codeName(ErrorCode c) {
  switch (c) {
    case ErrorCode::kInvalidArgument:
      return "INVALID_ARGUMENT";
    case ErrorCode::kNotFound:
      return "NOT_FOUND";
    case ErrorCode::kUnsatisfiable:
      return "UNSATISFIABLE";
    case ErrorCode::kFailedPrecondition:
      return "FAILED_PRECONDITION";
    case ErrorCode::kPermissionDenied:
      return "PERMISSION_DENIED";
    case ErrorCode::kUnavailable:
      return "UNAVAILABLE";
    case ErrorCode::kInternal:
      return "INTERNAL";
  }
  return "UNKNOWN";
}

// One output file, a line at a time and flushed, so that what a killed run wrote is complete.
class LineFile {
 public:
  explicit LineFile(const std::string& path) : f_(std::fopen(path.c_str(), "a")) {}
  ~LineFile() {
    if (f_) std::fclose(f_);
  }
  bool ok() const { return f_ != nullptr; }
  void line(const std::string& s) {
    std::fputs(s.c_str(), f_);
    std::fputc('\n', f_);
    std::fflush(f_);
  }

 private:
  std::FILE* f_;
};

struct Totals {
  std::atomic<uint64_t> acked{0};
  std::atomic<uint64_t> failed{0};
  std::atomic<uint64_t> gaveup{0};
  std::atomic<uint64_t> cancels{0};
  std::atomic<bool> fatal{false};
};

// One submitting thread: its own channel, its own files, its own recent jobs.
void submitter(int k, const Options& opt, const std::vector<proto::SubmitJobRequest>& requests,
               TokenBucket& bucket, Totals& totals) {
  const std::string n = std::to_string(k);
  LineFile acks(opt.out + "/acks." + n), fails(opt.out + "/fails." + n),
      errors(opt.out + "/errors." + n), cancels(opt.out + "/cancels." + n);
  if (!acks.ok() || !fails.ok() || !errors.ok() || !cancels.ok()) {
    std::fprintf(stderr, "locus-soak-submit: cannot write in %s\n", opt.out.c_str());
    totals.fatal = true;
    return;
  }
  std::mt19937_64 rng(opt.seed * 1000003 + static_cast<uint64_t>(k));
  const std::string env_address = cli::controllerAddress("");
  std::string address = readAddress(opt, env_address);
  auto client = std::make_unique<cli::Client>(address);
  std::deque<uint64_t> recent;
  proto::CancelJobRequest cancel_template;
  cancel_template.set_user(cli::currentUserName());
  cancel_template.set_uid(getuid());

  while (!totals.fatal && unixMicros() < opt.end_us) {
    const auto slot = bucket.take();
    std::this_thread::sleep_until(slot);
    if (unixMicros() >= opt.end_us) break;
    // One submit, one token, kept across its retries: a retry after a lost reply gets the job
    // the first attempt made.
    proto::SubmitJobRequest request = requests[rng() % requests.size()];
    request.set_submit_token(cli::newSubmitToken());
    auto backoff = std::chrono::duration_cast<Clock::duration>(kFirstBackoff);
    for (;;) {
      auto reply = client->submit(request);
      if (reply.ok()) {
        acks.line(std::to_string(reply->job_id()));
        ++totals.acked;
        recent.push_back(reply->job_id());
        if (recent.size() > kRecentJobs) recent.pop_front();
        break;
      }
      const Error& e = reply.error();
      fails.line(std::to_string(unixMicros()) + " " + codeName(e.code));
      errors.line(e.message);
      ++totals.failed;
      if (e.code == ErrorCode::kInvalidArgument || e.code == ErrorCode::kPermissionDenied) {
        std::fprintf(stderr, "locus-soak-submit: the controller refuses the submit: %s\n",
                     e.message.c_str());
        totals.fatal = true;
        return;
      }
      if (unixMicros() >= opt.giveup_us || totals.fatal) {
        fails.line("gaveup");
        ++totals.gaveup;
        break;
      }
      std::this_thread::sleep_for(backoff);
      backoff = std::min<Clock::duration>(backoff * 2, kMaxBackoff);
      if (std::string now = readAddress(opt, env_address); now != address) {
        address = now;
        client = std::make_unique<cli::Client>(address);
      }
    }
    if (!recent.empty() && static_cast<int>(rng() % 100) < opt.cancel_percent) {
      const uint64_t id = recent[rng() % recent.size()];
      proto::CancelJobRequest req = cancel_template;
      req.add_job_ids(id);
      auto reply = client->cancel(req);
      int rc = reply.ok() ? 0 : 1;
      if (!reply.ok()) errors.line("cancel " + std::to_string(id) + ": " + reply.error().message);
      if (reply.ok())
        for (const auto& r : reply->results())
          if (!r.ok()) rc = 1;
      cancels.line(std::to_string(id) + " " + std::to_string(rc));
      ++totals.cancels;
    }
  }
}

int usage() {
  std::fputs(
      "usage: locus-soak-submit --rate R --threads P --end-us T --giveup-us T --out DIR\n"
      "                         [--cancel-percent N] [--addr-file FILE] [--seed S] -- "
      "SUBMIT-ARGS...\n",
      stderr);
  return 2;
}

template <typename T>
bool parseNumber(const std::string& s, T& out) {
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, out);
  return ec == std::errc() && p == end;
}

std::optional<Options> parseOptions(int argc, char** argv) {
  Options opt;
  int i = 1;
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (i + 1 >= argc) return std::nullopt;
    std::string v = argv[++i];
    bool ok = true;
    if (a == "--rate")
      ok = parseNumber(v, opt.rate) && opt.rate > 0;
    else if (a == "--threads")
      ok = parseNumber(v, opt.threads) && opt.threads >= 1 && opt.threads <= 256;
    else if (a == "--end-us")
      ok = parseNumber(v, opt.end_us);
    else if (a == "--giveup-us")
      ok = parseNumber(v, opt.giveup_us);
    else if (a == "--out")
      opt.out = v;
    else if (a == "--cancel-percent")
      ok = parseNumber(v, opt.cancel_percent) && opt.cancel_percent >= 0 &&
           opt.cancel_percent <= 100;
    else if (a == "--addr-file")
      opt.addr_file = v;
    else if (a == "--seed")
      ok = parseNumber(v, opt.seed);
    else
      ok = false;
    if (!ok) return std::nullopt;
  }
  for (; i < argc; ++i) opt.submit_args.emplace_back(argv[i]);
  if (opt.end_us <= 0 || opt.out.empty() || opt.submit_args.empty()) return std::nullopt;
  if (opt.giveup_us < opt.end_us) opt.giveup_us = opt.end_us;
  if (opt.seed == 0) opt.seed = static_cast<uint64_t>(getpid());
  return opt;
}

int run(int argc, char** argv) {
  auto opt = parseOptions(argc, argv);
  if (!opt) return usage();
  // One request per digit: what `locus submit` would send with "{d}" replaced by it.
  std::vector<proto::SubmitJobRequest> requests;
  for (char d = '1'; d <= '9'; ++d) {
    std::vector<std::string> args = opt->submit_args;
    for (std::string& a : args)
      for (size_t p; (p = a.find("{d}")) != std::string::npos;) a.replace(p, 3, 1, d);
    auto built = cli::buildSubmitRequest(args);
    if (!built.ok()) {
      std::fprintf(stderr, "locus-soak-submit: %s\n", built.error().message.c_str());
      return 2;
    }
    requests.push_back(std::move(built->request));
  }
  TokenBucket bucket(opt->rate);
  Totals totals;
  const int64_t start = unixMicros();
  std::vector<std::thread> threads;
  for (int k = 1; k <= opt->threads; ++k)
    threads.emplace_back(submitter, k, std::cref(*opt), std::cref(requests), std::ref(bucket),
                         std::ref(totals));
  for (auto& t : threads) t.join();
  const double secs = static_cast<double>(unixMicros() - start) / 1e6;
  std::fprintf(stderr,
               "locus-soak-submit: %llu acknowledged in %.0f s = %.1f/s (target %.0f/s, %d "
               "threads); %llu failed "
               "attempts retried, %llu given up; %llu cancels\n",
               static_cast<unsigned long long>(totals.acked.load()), secs,
               secs > 0 ? static_cast<double>(totals.acked.load()) / secs : 0.0, opt->rate,
               opt->threads, static_cast<unsigned long long>(totals.failed.load()),
               static_cast<unsigned long long>(totals.gaveup.load()),
               static_cast<unsigned long long>(totals.cancels.load()));
  return totals.fatal ? 1 : 0;
}

}  // namespace
}  // namespace locus::bench

int main(int argc, char** argv) { return locus::bench::run(argc, argv); }
