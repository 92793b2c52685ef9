// `dmacycle export`: a run's samples, results and DMTA measurements written to files (docs/cli.md,
// docs/exports.md), read through the HTTP API (docs/api.md) or from a store file.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "client_common.hpp"
#include "dmacycle/cli/api_client.hpp"
#include "dmacycle/cli/commands.hpp"
#include "dmacycle/exports/run_export.hpp"
#include "dmacycle/io/arguments.hpp"
#include "dmacycle/io/csv_table.hpp"
#include "dmacycle/io/text.hpp"
#include "dmacycle/store/run_archive.hpp"
#include "dmacycle/store/sample_store.hpp"

namespace dmacycle::cli {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

// Rows per samples request: few round trips, answers of a few MB.
constexpr int export_page_rows = 50000;

enum class ExportFormat { csv, ta };

// --format, else from the file name: FILE.txt is a TA text export, anything else CSV.
ExportFormat export_format(const io::Arguments& arguments, const std::string& out_path) {
    if (const auto name = arguments.text("format")) {
        if (*name == "csv" || *name == "ta") {
            return *name == "ta" ? ExportFormat::ta : ExportFormat::csv;
        }
        throw io::UsageError("--format must be csv or ta, not '" + *name + "'");
    }
    return fs::path(out_path).extension() == ".txt" ? ExportFormat::ta : ExportFormat::csv;
}

// An output written to FILE.part and renamed to FILE by commit(), so an interrupted or refused
// export leaves no partial file; without commit() the .part is removed.
class PartFile {
  public:
    explicit PartFile(std::string path)
        : path_(std::move(path)),
          partial_(path_ + ".part"),
          file_(partial_, std::ios::binary | std::ios::trunc) {
        if (!file_) {
            throw io::InputError(path_ + ": cannot write");
        }
    }
    ~PartFile() {
        if (!committed_) {
            file_.close();
            std::error_code ignored;
            fs::remove(partial_, ignored);
        }
    }
    PartFile(const PartFile&) = delete;
    PartFile& operator=(const PartFile&) = delete;

    const std::string& path() const { return path_; }
    std::ostream& stream() { return file_; }
    void commit() {
        file_.close();
        std::error_code error;
        if (!file_ || (fs::rename(partial_, path_, error), error)) {
            throw io::InputError(path_ + ": cannot write");
        }
        committed_ = true;
    }

  private:
    std::string path_, partial_;
    std::ofstream file_;
    bool committed_ = false;
};

// Where `export` reads a run: the server's API or a store file; the writers do not know which.
struct ExportSource {
    store::ArchivedRun run;
    // Calls `each` for every sample whose seq is a multiple of `every`, in seq order.
    std::function<void(int every, const std::function<void(const store::ArchivedSample&)>& each)>
        samples;
    std::function<Json()> results;  // the stored results by kind
    // Calls `each` for every DMTA measurement of the run, in seq order (none without a scan).
    std::function<void(const std::function<void(const store::ArchivedDmta&)>& each)> dmta;
};

// Reads `path` (a GET with a query ending in `since=`) page after page until `more` is false;
// `rows_of` takes each page's rows.
void page_through(const ApiClient& client, const std::string& path_since,
                  const std::function<void(const Json&)>& rows_of) {
    long long since = -1;
    while (true) {
        const auto page = client.get(path_since + std::to_string(since));
        rows_of(page);
        const auto next = page.value("next_since", since);
        if (!page.value("more", false)) {
            return;
        }
        if (next <= since) {
            throw ClientError(0, "unexpected page of " + path_since + ": next_since " +
                                     std::to_string(next) + " does not advance past " +
                                     std::to_string(since));
        }
        since = next;
    }
}

ExportSource server_source(const ApiClient& client, std::int64_t id) {
    const auto path = "/api/v1/runs/" + std::to_string(id);
    const auto answer = client.get(path);
    const auto text = [&](const char* key) {
        const auto found = answer.find(key);
        return found != answer.end() && found->is_string() ? found->get<std::string>()
                                                           : std::string();
    };
    const auto job = answer.find("job_id");
    store::ArchivedRun run{
        .id = id,
        .job_id = job != answer.end() && job->is_number() ? job->get<std::int64_t>() : 0,
        .job_text = text("job_text"),
        .sample_id = text("sample"),
        .profile = text("profile"),
        .software_version = text("software_version"),
        .instrument_identity = text("instrument_identity"),
        .status = text("status"),
        .created_utc = text("created_utc"),
        .started_utc = text("started_utc"),
        .ended_utc = text("ended_utc")};
    const auto samples =
        [&client, path](int every, const std::function<void(const store::ArchivedSample&)>& each) {
            page_through(client,
                         io::format("%s/samples?limit=%d&every=%d&since=", path.c_str(),
                                    export_page_rows, every),
                         [&](const Json& page) { for_each_page_sample(page, each); });
        };
    const auto results = [&client, path] {
        return client.get(path + "/results").value("results", Json::object());
    };
    const auto dmta = [&client, path](const std::function<void(const store::ArchivedDmta&)>& each) {
        page_through(client, io::format("%s/dmta?limit=%d&since=", path.c_str(), export_page_rows),
                     [&](const Json& page) { for_each_page_dmta(page, each); });
    };
    return {std::move(run), samples, results, dmta};
}

ExportSource store_source(const std::string& file, std::int64_t id) {
    const auto archive = std::make_shared<const store::RunArchive>(file);
    // A store that fails while being read (an I/O error, a file truncated under us) is named.
    const auto reading = [file](const auto& read) {
        try {
            return read();
        } catch (const store::StoreError& error) {
            throw io::InputError(file + ": cannot read: " + error.what());
        }
    };
    auto run = reading([&] { return archive->run(id); });
    const auto samples = [archive, id, reading](
                             int every,
                             const std::function<void(const store::ArchivedSample&)>& each) {
        reading([&] { archive->for_each_sample(id, each, every); });
    };
    const auto results = [archive, id, reading] {
        return reading([&] { return Json(archive->results(id)); });
    };
    const auto dmta = [archive, id,
                       reading](const std::function<void(const store::ArchivedDmta&)>& each) {
        for (const auto& row : reading([&] { return archive->dmta(id); })) {
            each(row);
        }
    };
    return {std::move(run), samples, results, dmta};
}

// What `export` was asked, checked before anything is read.
struct ExportRequest {
    std::int64_t id = 0;
    std::string out_path;
    ExportFormat format = ExportFormat::csv;
    int every = 1;
    std::optional<std::string> results_path;
    std::string results_extension;  // ".json" or ".csv" with --results
    std::optional<std::string> dmta_path;
    std::optional<std::string> db;  // read this store file instead of the server
};

ExportRequest export_request(const io::Arguments& arguments) {
    ExportRequest request;
    request.id = the_id(arguments, "run");
    const auto out_path = arguments.text("out");
    if (!out_path || out_path->empty()) {
        throw io::UsageError("--out FILE is required");
    }
    request.out_path = *out_path;
    request.format = export_format(arguments, *out_path);
    request.every = arguments.integer("every").value_or(1);
    if (request.every < 1) {
        throw io::UsageError("--every must be ≥ 1");
    }
    request.results_path = arguments.text("results");
    const auto& results_path = request.results_path;
    request.results_extension =
        results_path ? fs::path(*results_path).extension().string() : std::string();
    if (results_path && request.results_extension != ".json" &&
        request.results_extension != ".csv") {
        throw io::UsageError(
            "--results takes FILE.json (the API's answer) or FILE.csv (tables), not '" +
            *results_path + "'");
    }
    request.dmta_path = arguments.text("dmta");
    if (request.dmta_path && request.dmta_path->empty()) {
        throw io::UsageError("--dmta takes the CSV file to write");
    }
    request.db = arguments.text("db");
    if (request.db && (arguments.text("server") || arguments.text("token-file"))) {
        throw io::UsageError("--db reads the store file itself: no --server or --token-file");
    }
    return request;
}

// The --results files, written beside their names: the API's answer as JSON, or the CSV
// tables (FILE.csv for the scalars, FILE-TABLE.csv for each table).
std::vector<std::unique_ptr<PartFile>> write_results(const ExportRequest& request,
                                                     const ExportSource& source) {
    std::vector<std::unique_ptr<PartFile>> files;
    if (!request.results_path) {
        return files;
    }
    const auto& results_path = *request.results_path;
    const auto results = source.results();
    const auto add = [&](const std::string& path, const std::string& text) {
        files.push_back(std::make_unique<PartFile>(path));
        files.back()->stream() << text;
    };
    if (request.results_extension == ".json") {
        add(results_path, Json{{"run_id", request.id}, {"results", results}}.dump(2) + "\n");
    } else {
        const auto csv = exports::results_csv(results);
        add(results_path, csv.scalars);
        const auto stem = results_path.substr(0, results_path.size() - 4);
        for (const auto& table : csv.tables) {
            add(stem + "-" + table.name + ".csv", table.text);
        }
    }
    return files;
}

// Writes every file the request names, then renames them into place and says what was written.
int write_export(const ExportRequest& request, const ExportSource& source, std::ostream& out) {
    const auto id = request.id;
    const int every = request.every;
    PartFile samples_file(request.out_path);
    const auto writer = request.format == ExportFormat::ta
                            ? exports::ta_sample_writer(samples_file.stream(), source.run)
                            : exports::csv_sample_writer(samples_file.stream());
    std::size_t rows = 0;
    source.samples(every, [&](const store::ArchivedSample& sample) {
        writer->write(sample);
        ++rows;
    });
    // Every file is complete beside its name before any is renamed into place.
    const auto results_files = write_results(request, source);
    std::optional<PartFile> dmta_file;
    std::size_t dmta_rows = 0;
    if (request.dmta_path) {
        exports::write_dmta_csv_header(dmta_file.emplace(*request.dmta_path).stream());
        source.dmta([&](const store::ArchivedDmta& row) {
            exports::write_dmta_csv_row(dmta_file->stream(), row);
            ++dmta_rows;
        });
    }
    for (const auto& file : results_files) {
        file->commit();
    }
    if (dmta_file) {
        dmta_file->commit();
    }
    samples_file.commit();

    out << "run " << id << " (" << source.run.status << "): " << rows
        << (every > 1 ? io::format(" samples (every %d-th seq)", every) : std::string(" samples"))
        << " written to " << request.out_path
        << (request.format == ExportFormat::ta ? " (TA text, UTF-16)" : "") << "\n";
    if (!results_files.empty()) {
        out << "results of run " << id << " written to";
        for (std::size_t i = 0; i < results_files.size(); ++i) {
            out << (i ? ", " : " ") << results_files[i]->path();
        }
        out << "\n";
    }
    if (dmta_file) {
        out << "DMTA measurements of run " << id << ": " << dmta_rows << " written to "
            << dmta_file->path() << "\n";
    }
    return exit_ok;
}

}  // namespace

int run_export(std::span<const std::string_view> args, std::ostream& out, std::ostream& err) {
    static const Command command{"export", {"out", "format", "every", "results", "dmta", "db"}, {}};
    return guarded_command(
        command, args, err,
        [&](const io::Arguments& arguments, std::optional<Connection>& connection) {
            const auto request = export_request(arguments);
            const ExportSource source =
                request.db
                    ? store_source(*request.db, request.id)
                    : server_source(connection.emplace(connect(arguments)).client, request.id);
            return write_export(request, source, out);
        });
}

}  // namespace dmacycle::cli
