#pragma once
// Run-time predictions for EASY++ backfilling (Tsafrir, Etsion & Feitelson, "Backfilling using
// system-generated predictions rather than user runtime estimates", IEEE TPDS 18(6), 2007).
//
// A job is predicted to run the average of the run times of its user's last two jobs that ran
// and ended (one if only one did), never more than its time limit; with no history the
// prediction is the time limit itself, which is plain EASY. The prediction is only for planning:
// the time limit still kills the job, so users see EASY's contract unchanged.
//
// A running job that outlives its prediction gets a longer one (correctedEnd): its original
// prediction plus 1 min, then plus 5 min, 15 min, 30 min, 1, 2, 5, 10, 20, 50, 100 h (doubling
// after that), each time the last one proves short, capped at its time limit. This is the
// corrector of the EASY++ implementations in the scheduling-research simulators pyss and
// predictsim. Its reservation-holding successors are then planned later: a reservation is
// pushed back, never broken, because nothing that started in front of it is ever stopped.
//
// Backfilling under kEasyPredict also takes candidates shortest predicted run time first (SJBF),
// as EASY++ does; the reservations are still made in priority order.
//
// Example: alice's last two jobs ran 600 s and 1,000 s; her next job, limit 4 h, is planned at
// 800 s. At 800 s it still runs: planned to end at 860 s, then at 1,100 s, 1,700 s, 2,600 s,
// 4,400 s, 8,000 s, then at its 4 h limit (where it is killed if it still runs).
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace locus::scheduler {

class RuntimePredictor {
 public:
  // A job of `user` ended after running `runtime_s` seconds (> 0; others are ignored: a job
  // cancelled before it ran says nothing about how long this user's jobs run).
  void observe(std::string_view user, int64_t runtime_s);

  // The planned run time of a new job of `user` with this time limit (0 = unlimited): >= 1 s,
  // <= the limit.
  int64_t predict(std::string_view user, int64_t time_limit_s) const;

  // Where planning puts the end of a job that started at `start` with prediction `predicted_s`
  // and time limit `time_limit_s` (0 = unlimited), seen at `now`: start + predicted_s while that
  // lies ahead; past it, start + predicted_s + the first ladder step that lies ahead, capped at
  // the limit.
  // An overdue job (past its limit, not yet killed) is left at start + limit.
  static int64_t correctedEnd(int64_t start, int64_t predicted_s, int64_t time_limit_s,
                              int64_t now);

 private:
  struct History {
    int64_t last = 0;      // the most recent run time, 0 = none
    int64_t previous = 0;  // the one before it, 0 = none
  };
  // Looked up by string_view without building a string: predict() runs for every pending job
  // in every pass.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  std::unordered_map<std::string, History, Hash, std::equal_to<>> users_;
};

}  // namespace locus::scheduler
