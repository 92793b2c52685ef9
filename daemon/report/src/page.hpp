#pragma once
#include <filesystem>
#include <string>
#include <vector>

// The report's HTML page and its publication into OUT (docs/report.md "The command").
namespace dmacycle::report {

struct RenderedFigure {
    std::string name;  // file stem under figures/
    std::string caption;
    std::string svg;
};

// The self-contained page: title, intro, body, the figures inlined and numbered, then tables.
std::string page(const std::string& title, const std::string& intro, const std::string& body,
                 const std::vector<RenderedFigure>& figures, const std::string& tables);

// Writes the page and its figures into a directory beside OUT, then renames it into place
// (a previous report in OUT is moved aside first and removed after). Returns index.html's path.
std::filesystem::path publish(const std::filesystem::path& out_dir, const std::string& html,
                              const std::vector<RenderedFigure>& figures);

}  // namespace dmacycle::report
