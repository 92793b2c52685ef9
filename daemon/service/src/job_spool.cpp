// The spool folder: job files dropped in it are validated, then accepted or rejected.
#include "job_service_impl.hpp"

namespace dmacycle::service {

// --- spool ----------------------------------------------------------------------------------

void JobService::Impl::reject(const fs::path& path, const std::string& name,
                              const std::string& why) {
    const fs::path target = free_name(config.spool / "rejected", name);
    fs::rename(path, target);
    write_text(target.string() + ".error", why + "\n");
    log::warning("spool: " + name + " rejected (" + target.filename().string() + ".error)");
}

void JobService::Impl::spool_file(const fs::path& path) {
    const std::string name = path.filename().string();
    if (const auto text = read_spool_file(path, name)) {
        accept_spool_file(path, name, *text);
    }
}

namespace {

// Up to `limit` bytes from `fd`.
std::string read_all(int fd, std::size_t limit) {
    std::string text(limit, '\0');
    std::size_t length = 0;
    while (length < text.size()) {
        const auto got = ::read(fd, text.data() + length, text.size() - length);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            throw std::runtime_error(std::string("cannot read: ") + std::strerror(errno));
        }
        if (got == 0) {
            break;
        }
        length += static_cast<std::size_t>(got);
    }
    text.resize(length);
    return text;
}

}  // namespace

// The file's text once it is a settled regular file within the size limit; nullopt when it was
// rejected or may still be being written (the next pass takes it).
std::optional<std::string> JobService::Impl::read_spool_file(const fs::path& path,
                                                             const std::string& name) {
    // One open, then only the descriptor: the name cannot be swapped for a link or a FIFO
    // between the checks and the read. O_NONBLOCK: opening a FIFO never waits for a writer.
    const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        const int error = errno;
        if (error == ELOOP) {
            // Moving the link moves the link itself; its target is never read.
            reject(path, name,
                   name +
                       ": a symbolic link; refused (spool files must be regular files, written "
                       "then renamed into the folder)");
        } else if (error == EACCES) {
            reject(path, name,
                   name + ": not readable by dmacycled (" + std::strerror(error) +
                       "); make it readable and put it back");
        } else if (error == ENXIO) {
            reject(path, name, name + ": not a regular file; refused");
        } else if (error != ENOENT) {
            throw std::runtime_error(std::string("cannot open: ") + std::strerror(error));
        }
        return std::nullopt;
    }
    const FileDescriptor file(fd);
    struct stat info {};
    if (::fstat(fd, &info) != 0) {
        throw std::runtime_error(std::string("cannot stat: ") + std::strerror(errno));
    }
    if (!S_ISREG(info.st_mode)) {
        reject(path, name, name + ": not a regular file; refused");
        return std::nullopt;
    }
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    const auto age = std::chrono::seconds(now.tv_sec - info.st_mtim.tv_sec) +
                     std::chrono::nanoseconds(now.tv_nsec - info.st_mtim.tv_nsec);
    if (age < spool_settle_time) {
        return std::nullopt;
    }
    if (static_cast<std::uint64_t>(info.st_size) > config.max_job_bytes) {
        reject(path, name, over_limit(name, info.st_size, config.max_job_bytes));
        return std::nullopt;
    }
    // One byte past the limit tells a file that grew since fstat.
    return read_all(fd, config.max_job_bytes + 1);
}

// Validates the text and queues its job, or rejects the file with the reasons.
void JobService::Impl::accept_spool_file(const fs::path& path, const std::string& name,
                                         const std::string& text) {
    protocols::JobFile job_file;
    try {
        job_file = validate(text, name);
    } catch (const ApiError& error) {
        std::string why = error.what();
        for (const auto& line : error.details()) {
            why += "\n" + line;
        }
        reject(path, name, why);
        return;
    }
    // The file leaves the spool under a private name (accepted/.ID-NAME) before its job row
    // exists: a crash in between leaves it to recover_spool, never to a second submission.
    const std::string source = "spool:" + name;
    std::int64_t job_id = 0, ahead = 0;
    fs::path pending;
    {
        std::lock_guard write(write_mutex);
        writer->query("SELECT coalesce(max(id), 0) + 1 FROM jobs", {},
                      [&](const store::SqlRow& row) { job_id = row.integer(0); });
        pending = config.spool / "accepted" / private_spool_name(job_id, name);
        fs::rename(path, pending);
        try {
            insert_locked(job_file, text, source, job_id, ahead);
        } catch (...) {
            std::error_code ignored;
            fs::rename(pending, path, ignored);  // back for the next pass
            throw;
        }
    }
    queued(job_id, job_file, source);
    const fs::path target =
        free_name(config.spool / "accepted", std::to_string(job_id) + "-" + name);
    std::error_code error;
    fs::rename(pending, target, error);
    if (error) {
        log::error("spool: " + name + ": job " + std::to_string(job_id) + " queued, but " +
                   pending.string() + " not renamed: " + error.message() +
                   " (the next start does it)");
    }
}

// Files a crash left under their private name in accepted/: the job row exists → the final
// name; it does not → back into the spool, to be submitted by the next pass.
void JobService::Impl::recover_spool() {
    const fs::path accepted = config.spool / "accepted";
    std::error_code ignored;
    if (config.spool.empty() || !fs::is_directory(accepted, ignored)) {
        return;
    }
    std::vector<std::pair<std::int64_t, std::string>> pending;  // job id, spool name
    for (const auto& entry : fs::directory_iterator(accepted)) {
        const std::string file = entry.path().filename().string();
        const auto dash = file.find('-');
        if (file.front() != '.' || dash == std::string::npos || dash < 2 || dash > 18 ||
            dash + 1 == file.size() ||
            !std::all_of(file.begin() + 1, file.begin() + static_cast<std::ptrdiff_t>(dash),
                         [](char c) { return c >= '0' && c <= '9'; })) {
            continue;
        }
        pending.emplace_back(std::stoll(file.substr(1, dash - 1)), file.substr(dash + 1));
    }
    for (const auto& [job_id, name] : pending) {
        bool queued = false;
        {
            std::lock_guard read(read_mutex);
            reader->query("SELECT 1 FROM jobs WHERE id = ?", {job_id},
                          [&](const store::SqlRow&) { queued = true; });
        }
        const fs::path from = accepted / private_spool_name(job_id, name);
        const fs::path to = queued ? free_name(accepted, std::to_string(job_id) + "-" + name)
                                   : free_name(config.spool, name);
        try {
            fs::rename(from, to);
            log::notice("spool: " + from.filename().string() + " left by a stop: " +
                        (queued ? "job " + std::to_string(job_id) + " was queued; now "
                                : std::string("not queued; back as ")) +
                        to.string());
        } catch (const fs::filesystem_error& error) {
            log::error(std::string("spool: ") + error.what());
        }
    }
}

void JobService::scan_spool() {
    const auto& spool = impl_->config.spool;
    if (spool.empty()) {
        return;
    }
    std::lock_guard lock(impl_->spool_mutex);
    std::vector<fs::path> files;
    try {
        for (const auto* sub : {"", "accepted", "rejected"}) {
            const fs::path dir = spool / sub;
            const auto status = fs::symlink_status(dir);
            if (!fs::exists(status)) {
                fs::create_directories(dir);
                fs::permissions(
                    dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec);
            } else if (*sub != '\0' && !fs::is_directory(status)) {
                // Files are moved into these: a link put in their place by whoever may write
                // to the spool folder would send them (and the error files) elsewhere.
                if (impl_->spool_warned.insert(sub).second) {
                    log::error("spool: " + dir.string() +
                               " is not a folder (a symbolic link?); no job is taken from the "
                               "spool until it is");
                }
                return;
            }
        }
        for (const auto& entry : fs::directory_iterator(spool)) {
            const auto name = entry.path().filename().string();
            if (entry.path().extension() == ".yaml" && name.front() != '.') {
                files.push_back(entry.path());
            }
        }
    } catch (const fs::filesystem_error& error) {
        // The folder may come back (a mount, a permission fixed): the next pass tries again.
        log::error(std::string("spool: ") + error.what());
        return;
    }
    std::sort(files.begin(), files.end());  // a stable, predictable order within one pass
    auto& warned = impl_->spool_warned;
    std::erase_if(warned, [&](const std::string& name) {
        return std::none_of(files.begin(), files.end(),
                            [&](const fs::path& path) { return path.filename() == name; });
    });
    for (const auto& path : files) {
        const std::string name = path.filename().string();
        try {
            store_call([&] {
                impl_->spool_file(path);
                return 0;
            });
        } catch (const std::exception& error) {
            // One bad file (or a failing store) must not stop the pass or the service; a file
            // that stays is logged once, not at every pass.
            if (warned.insert(name).second) {
                log::error("spool: " + name + ": " + error.what() + " (left in the spool)");
            }
        }
    }
}

}  // namespace dmacycle::service
