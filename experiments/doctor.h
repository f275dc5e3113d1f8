// `keel doctor RUN_DIR`: reads a run's metrics.csv (and events.jsonl, summary.json when present)
// and names what looked unhealthy, when, and the config keys that usually help. Alarms: the run
// diverged (guard events, non-finite figures, a status of "diverged"). Warnings: figures outside
// their healthy ranges for a while (large KL or clip fraction, updates large against the weights,
// Q overestimation, dead units, collapsed entropy or explained variance, exploding parameter
// norm, a final return far under the best). A healthy run gives no findings.
#pragma once

#include <string>

#include "core/json.h"

namespace keel::experiments {

// {"run_dir", "rows", "healthy": bool, "findings": [{"severity": "alarm"|"warning", "what",
//  "first_step", "last_step", "count", "detail", "advice"}]}
Json doctor(const std::string& run_dir);
// The findings as text, one paragraph each ("no problems found" when healthy).
std::string doctor_report(const Json& d);

}  // namespace keel::experiments
