#include "page.hpp"

#include <unistd.h>

#include <fstream>
#include <sstream>

#include "dmacycle/io/input_error.hpp"
#include "dmacycle/report/report.hpp"
#include "dmacycle/report/svg_plot.hpp"

namespace dmacycle::report {
namespace {

namespace fs = std::filesystem;
using svg::escape;

const char* const page_style =
    "body{font-family:'DejaVu Sans',Arial,Helvetica,sans-serif;margin:2em auto;max-width:72em;"
    "color:#111;line-height:1.4;padding:0 1em}"
    "h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}"
    "figure{margin:1.5em 0}figure svg{max-width:100%;height:auto}"
    "figcaption{font-size:.9em;color:#333}"
    "table{border-collapse:collapse;margin:1em 0;font-size:.9em}"
    "caption{text-align:left;font-weight:bold;padding:.3em 0}"
    "th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}"
    "td.unit{color:#555}.note{background:#fff4d6;border:1px solid #e0b84c;padding:.6em 1em}"
    "span[data-value],.conditions td{white-space:nowrap}code{font-size:.95em}";

void write_text(const fs::path& path, const std::string& text) {
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    file << text;
    file.close();
    if (!file) {
        throw io::InputError(path.string() + ": cannot write");
    }
}

}  // namespace

std::string page(const std::string& title, const std::string& intro, const std::string& body,
                 const std::vector<RenderedFigure>& figures, const std::string& tables) {
    std::ostringstream html;
    html << "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n"
         << "<meta charset=\"utf-8\"/>\n<title>" << escape(title) << "</title>\n<style>"
         << page_style << "</style>\n</head>\n<body>\n<h1>" << escape(title) << "</h1>\n"
         << intro << body << "<h2>Figures</h2>\n";
    for (std::size_t i = 0; i < figures.size(); ++i) {
        auto svg_text = figures[i].svg;
        svg_text.erase(0, svg_text.find("<svg"));  // no XML declaration inside the page
        html << "<figure id=\"" << escape(figures[i].name) << "\">\n"
             << svg_text << "<figcaption>Fig. " << i + 1 << ". " << figures[i].caption
             << " (<a href=\"figures/" << escape(figures[i].name) << ".svg\">figures/"
             << escape(figures[i].name) << ".svg</a>)</figcaption>\n</figure>\n";
    }
    html << tables << "<p class=\"footer\">Written by <code>dmacycle report</code>; every number "
         << "carries its stored value in <code>data-value</code> (docs/report.md).</p>\n"
         << "</body>\n</html>\n";
    return html.str();
}

fs::path publish(const fs::path& out_dir, const std::string& html,
                 const std::vector<RenderedFigure>& figures) {
    check_report_dir(out_dir);
    const fs::path target = fs::absolute(out_dir).lexically_normal();
    const fs::path parent = target.parent_path();
    const std::string name = target.filename().string();
    const std::string tag = "." + name + "." + std::to_string(::getpid());
    const fs::path staging = parent / (tag + ".partial");
    const fs::path previous = parent / (tag + ".previous");
    std::error_code ignored;
    try {
        fs::create_directories(parent);
        fs::remove_all(staging, ignored);
        fs::create_directories(staging / "figures");
        for (const auto& figure : figures) {
            write_text(staging / "figures" / (figure.name + ".svg"), figure.svg);
        }
        write_text(staging / "index.html", html);
        if (fs::exists(target)) {
            fs::rename(target, previous);
        }
        fs::rename(staging, target);
        fs::remove_all(previous, ignored);
    } catch (const fs::filesystem_error& error) {
        fs::remove_all(staging, ignored);
        if (!fs::exists(target) && fs::exists(previous)) {
            fs::rename(previous, target, ignored);
        }
        throw io::InputError(target.string() +
                             ": cannot write the report: " + error.code().message());
    } catch (...) {
        fs::remove_all(staging, ignored);
        throw;
    }
    return target / "index.html";
}

void check_report_dir(const fs::path& out_dir) {
    if (out_dir.empty()) {
        throw io::InputError("--out DIR is empty");
    }
    std::error_code error;
    const auto status = fs::status(out_dir, error);
    if (!fs::exists(status)) {
        return;
    }
    if (!fs::is_directory(status)) {
        throw io::InputError(out_dir.string() + ": exists and is not a directory");
    }
    for (const auto& entry : fs::directory_iterator(out_dir, error)) {
        const auto name = entry.path().filename().string();
        if (name != "index.html" && name != "figures") {
            throw io::InputError(out_dir.string() + ": holds other files than a report (" + name +
                                 "); give a new or empty directory");
        }
    }
    if (error) {
        throw io::InputError(out_dir.string() + ": cannot read: " + error.message());
    }
}

}  // namespace dmacycle::report
