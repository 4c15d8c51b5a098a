// RFC 3339 date-times with offsets, the API's only time format. Instants are UTC Unix seconds;
// an offset is only how a time is written (Asia/Shanghai is +08:00 all year, no DST).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "plateau/common/civil_time.hpp"
#include "plateau/common/result.hpp"
#include "plateau/scheduler/booking.hpp"

namespace plateau::scheduler::app {

// The calendar and RFC 3339 themselves live in common/ (plateau/common/civil_time.hpp), shared with
// the logger and the signaling protocol; the API reads and writes them under these names.
using civil::CivilTime;
using civil::FormatRfc3339;
using civil::FromCivil;
using civil::kEarliestRfc3339;
using civil::kLatestRfc3339;
using civil::ParseRfc3339;
using civil::ToCivil;

// A duration in seconds: a whole number of minutes ("90") or ISO 8601 ("PT1H30M", "P1DT2H",
// "PT45S"). Positive, at most 31 days. Code "bad_duration".
Result<int64_t> ParseDuration(std::string_view text);

}  // namespace plateau::scheduler::app
