#include "pty.hpp"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <system_error>

namespace dmacycle::sim {

namespace {
[[noreturn]] void fail(const char* what) {
    throw std::system_error(errno, std::generic_category(), what);
}
}  // namespace

Pty open_raw_pty() {
    Pty pty;
    pty.master_fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (pty.master_fd < 0) {
        fail("posix_openpt");
    }
    if (grantpt(pty.master_fd) != 0 || unlockpt(pty.master_fd) != 0) {
        close_pty(pty);
        fail("grantpt/unlockpt");
    }
    const char* name = ptsname(pty.master_fd);
    if (name == nullptr) {
        close_pty(pty);
        fail("ptsname");
    }
    pty.slave_path = name;
    pty.slave_keepalive_fd = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (pty.slave_keepalive_fd < 0) {
        close_pty(pty);
        fail("open pty slave");
    }
    // Raw: no echo, no line editing, no CR/LF translation; a client may still set its own.
    termios tio{};
    if (tcgetattr(pty.slave_keepalive_fd, &tio) != 0) {
        close_pty(pty);
        fail("tcgetattr");
    }
    cfmakeraw(&tio);
    if (tcsetattr(pty.slave_keepalive_fd, TCSANOW, &tio) != 0) {
        close_pty(pty);
        fail("tcsetattr");
    }
    return pty;
}

void close_pty(Pty& pty) {
    if (pty.slave_keepalive_fd >= 0) {
        close(pty.slave_keepalive_fd);
        pty.slave_keepalive_fd = -1;
    }
    if (pty.master_fd >= 0) {
        close(pty.master_fd);
        pty.master_fd = -1;
    }
}

}  // namespace dmacycle::sim
