#include "dmacycle/io/text.hpp"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "dmacycle/io/csv_table.hpp"

namespace dmacycle::io {

std::string format(const char* pattern, ...) {
    va_list args;
    va_start(args, pattern);
    va_list args_again;
    va_copy(args_again, args);
    const int length = std::vsnprintf(nullptr, 0, pattern, args);
    va_end(args);
    std::string text(static_cast<std::size_t>(std::max(length, 0)) + 1, '\0');
    std::vsnprintf(text.data(), text.size(), pattern, args_again);
    va_end(args_again);
    text.pop_back();
    return text;
}

std::string read_job_text(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        throw InputError(path + ": cannot open the job file");
    }
    std::ostringstream text;
    text << file.rdbuf();
    return text.str();
}

}  // namespace dmacycle::io
