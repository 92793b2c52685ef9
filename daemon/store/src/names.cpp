#include "dmacycle/store/names.hpp"

namespace dmacycle::store::names {

std::string joined(std::span<const Column> table, std::string_view separator) {
    std::string text;
    for (const auto& column : table) {
        if (!text.empty()) {
            text += separator;
        }
        text += column.name;
    }
    return text;
}

}  // namespace dmacycle::store::names
