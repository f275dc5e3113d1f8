// Forward declaration of keel::Json (nlohmann::json) for headers that only pass it by reference.
#pragma once

#include <nlohmann/json_fwd.hpp>

namespace keel {
using Json = nlohmann::json;
}  // namespace keel
