#include "dmacycle/sim/frame_server.hpp"

// Boost 1.74's asio/awaitable.hpp uses std::exchange without including <utility> (GCC 12).
#include <utility>

// Asio's scheduler trips -Wnull-dereference once inlined into this file; not our code.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <boost/asio.hpp>
#pragma GCC diagnostic pop

#include <sys/inotify.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <deque>
#include <functional>
#include <list>
#include <system_error>
#include <thread>

#include "dmacycle/sim/frame_session.hpp"
#include "dmacycle/sim/starvation_meter.hpp"
#include "pty.hpp"

namespace dmacycle::sim {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

constexpr std::size_t max_line_bytes = 4096;
// Max speed: samples per write, so a fast consumer is not throttled by one syscall per line
// and a slow one only ever has one batch in flight.
constexpr int max_speed_batch = 256;
// Paced: at most this many overdue samples per wake-up, so commands are never starved.
constexpr int paced_catch_up = 10000;
// Paced: a stream wakes at most this often and sends what is due in one write, as an
// instrument fills a packet. One wake-up (a timer and a write) a sample took most of this
// thread at 500,000 samples/s; at 1 kHz and real speed a sample is due every 1 ms anyway.
constexpr auto paced_batch_period = std::chrono::milliseconds(1);
// Output waiting for a client that does not read: stream samples beyond it are dropped (the
// sequence numbers show the gap), and commands are not read while replies exceed it.
constexpr std::size_t max_queued_bytes = 1 << 20;
// The I/O thread's beat: late by more than the slack, it was starved (StarvationMeter).
constexpr auto beat_period = std::chrono::milliseconds(20);
constexpr auto beat_slack = std::chrono::milliseconds(50);

class ConnectionBase {
  public:
    virtual ~ConnectionBase() = default;
    virtual void close() = 0;
    // A serial client closed the port: nothing meant for it may reach the next one.
    virtual void peer_closed() = 0;
    // A SIMulate:FAULt line sent on another connection (SIMulate:PEER:...), acted on here.
    virtual void inject_fault(const std::string& line) = 0;
    // The consumer of a max-speed stream has read on: send what may go now.
    virtual void resume() = 0;
};

// SIMulate:PEER:...: the fault for every connection but `from`.
using PeerFaults = std::function<void(const ConnectionBase* from, const std::string& line)>;

// Bytes waiting to be written, and how many whole stream samples they hold (counted as
// delivered once written).
struct Chunk {
    std::string bytes;
    std::uint64_t samples = 0;
};

template <class Stream>
class Connection : public ConnectionBase, public std::enable_shared_from_this<Connection<Stream>> {
  public:
    Connection(Stream stream, Instrument& instrument, PeerFaults peer_faults)
        : stream_(std::move(stream)),
          instrument_(instrument),
          peer_faults_(std::move(peer_faults)),
          session_(instrument),
          in_(max_line_bytes),
          timer_(stream_.get_executor()),
          drop_timer_(stream_.get_executor()) {}

    void start() { read(); }

    void close() override {
        if (closed_) {
            return;
        }
        closed_ = true;
        boost::system::error_code ignored;
        timer_.cancel();
        drop_timer_.cancel();
        stream_.close(ignored);
    }

    void peer_closed() override {
        if (closed_) {
            return;
        }
        session_.stop_streaming();
        const bool was_pending = pending_.has_value();  // no read outstanding then
        pending_.reset();
        timer_.cancel();
        // Keep only the buffer of a write in flight (cancelled below, aborted in its handler).
        out_.erase(writing_ ? out_.begin() + 1 : out_.begin(), out_.end());
        out_bytes_ = out_.empty() ? 0 : out_.front().bytes.size();
        boost::system::error_code ignored;
        stream_.cancel(ignored);  // also the pending read, which on_read re-issues
        if (was_pending || read_paused_) {
            read();
        }
    }

    void inject_fault(const std::string& line) override {
        if (closed_) {
            return;
        }
        session_.handle(line);
        apply_drop_changes();
        pump();
    }

    void resume() override {
        if (!closed_) {
            pump();
        }
    }

  private:
    // Arms or cancels the DROP timer after a FAULt command changed it.
    void apply_drop_changes() {
        if (session_.faults().drop_changes == drop_changes_seen_) {
            return;
        }
        drop_changes_seen_ = session_.faults().drop_changes;
        drop_timer_.cancel();  // a CLEar, or a DROP replacing an earlier one
        if (session_.faults().drop_after_s) {
            drop_timer_.expires_after(wall_duration(*session_.faults().drop_after_s));
            drop_timer_.async_wait(
                [self = this->shared_from_this()](const boost::system::error_code& wait_ec) {
                    if (!wait_ec) {
                        self->close();
                    }
                });
        }
    }

    void read() {
        if (closed_ || pending_) {
            return;
        }
        read_paused_ = out_bytes_ > max_queued_bytes;  // resumed once the client reads
        if (read_paused_) {
            return;
        }
        asio::async_read_until(
            stream_, in_, '\n',
            [self = this->shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                self->on_read(ec, n);
            });
    }

    void on_read(const boost::system::error_code& ec, std::size_t n) {
        if (closed_) {
            return;
        }
        if (ec == asio::error::operation_aborted) {  // peer_closed() cancelled it
            read();
            return;
        }
        if (ec == asio::error::not_found) {  // a line longer than max_line_bytes
            in_.consume(in_.size());
            if (!discarding_) {
                session_.push_error(-223, "Too much data");
            }
            discarding_ = true;  // up to the end of this line, one error for all of it
            read();
            return;
        }
        if (ec) {
            close();
            return;
        }
        std::string line(asio::buffers_begin(in_.data()),
                         asio::buffers_begin(in_.data()) + static_cast<std::ptrdiff_t>(n - 1));
        in_.consume(n);
        if (discarding_) {  // the tail of an overlong line
            discarding_ = false;
            read();
            return;
        }
        if (session_.faults().mute) {
            read();
            return;
        }
        FrameReply reply = session_.handle(line);
        apply_drop_changes();
        if (const auto peer_fault = session_.take_peer_fault()) {
            peer_faults_(this, *peer_fault);
        }
        if (reply.not_before_s && *reply.not_before_s > instrument_.now_s()) {
            pending_ = std::move(reply);  // reading resumes once it is sent
        } else {
            send(std::move(reply.lines));
            read();
        }
        pump();
    }

    // Releases a due *OPC? reply, emits due stream samples and sleeps until the next event.
    void pump() {
        if (closed_ || session_.faults().mute) {
            return;
        }
        const bool max = instrument_.clock_is_max();
        if (pending_ && max && !session_.streaming()) {
            instrument_.advance_clock_to(*pending_->not_before_s);
        }
        if (pending_ && instrument_.now_s() >= *pending_->not_before_s) {
            send(std::move(pending_->lines));
            pending_.reset();
            read();
        }
        if (session_.streaming()) {
            Chunk batch;
            if (max) {
                // Max speed: the consumer sets the pace; wait for the previous batch to drain.
                // A held stream also waits for its consumer (ConsumerPace).
                if (!writing_ && out_.empty()) {
                    for (int i = 0; i < max_speed_batch &&
                                    instrument_.pace().may_send(session_.next_sample_s());
                         ++i) {
                        add_sample(batch);
                    }
                }
            } else {
                const double now = instrument_.now_s();
                for (int i = 0; i < paced_catch_up && session_.next_sample_s() <= now; ++i) {
                    if (out_bytes_ + batch.bytes.size() < max_queued_bytes) {
                        add_sample(batch);
                    } else {
                        session_.skip_sample();
                    }
                }
            }
            if (!batch.bytes.empty()) {
                enqueue(std::move(batch));
            }
        }
        arm_timer(max);
    }

    // A GARBle pending hits the next line out, a stream sample included: that one goes on its
    // own, not counted as delivered.
    void add_sample(Chunk& batch) {
        std::string line = session_.take_sample();
        if (session_.faults().garble) {
            session_.faults().garble = false;
            if (!batch.bytes.empty()) {
                enqueue(std::exchange(batch, Chunk{}));
            }
            enqueue({garbled(std::move(line)) + '\n', 0});
            return;
        }
        batch.bytes += line + '\n';
        ++batch.samples;
    }

    static std::string garbled(std::string line) {
        for (auto& c : line) {
            c = static_cast<char>(c ^ 0x5A);
        }
        return line;
    }

    void arm_timer(bool max) {
        std::optional<SimClock::WallClock::time_point> wake;
        if (pending_ && !(max && session_.streaming())) {
            wake = instrument_.wall_at(*pending_->not_before_s);
        }
        if (session_.streaming() && !max) {
            const auto next = std::max(instrument_.wall_at(session_.next_sample_s()),
                                       SimClock::WallClock::now() + paced_batch_period);
            wake = std::min(wake.value_or(next), next);
        }
        if (!wake) {
            return;
        }
        timer_.expires_at(*wake);
        timer_.async_wait([self = this->shared_from_this()](const boost::system::error_code& ec) {
            if (!ec) {
                self->pump();
            }
        });
    }

    void send(std::vector<std::string> lines) {
        auto& faults = session_.faults();
        std::string bytes;
        for (auto& line : lines) {
            if (faults.half_line) {
                faults.half_line = false;
                bytes += line.substr(0, line.size() / 2);  // and no terminator
                continue;
            }
            if (faults.garble) {
                faults.garble = false;
                line = garbled(std::move(line));
            }
            bytes += line + '\n';
        }
        if (bytes.empty()) {
            return;
        }
        if (faults.delay_s > 0) {
            auto late = std::make_shared<asio::steady_timer>(stream_.get_executor());
            late->expires_after(wall_duration(faults.delay_s));
            late->async_wait([self = this->shared_from_this(), late, bytes = std::move(bytes)](
                                 const boost::system::error_code& ec) mutable {
                if (!ec) {
                    self->enqueue({std::move(bytes), 0});
                }
            });
            return;
        }
        enqueue({std::move(bytes), 0});
    }

    void enqueue(Chunk chunk) {
        out_bytes_ += chunk.bytes.size();
        out_.push_back(std::move(chunk));
        if (!writing_) {
            write_next();
        }
    }

    void write_next() {
        if (closed_ || out_.empty()) {
            writing_ = false;
            return;
        }
        writing_ = true;
        asio::async_write(
            stream_, asio::buffer(out_.front().bytes),
            [self = this->shared_from_this()](const boost::system::error_code& ec,
                                              std::size_t written) {
                self->count_delivered(written);
                if (ec && ec != asio::error::operation_aborted) {  // aborted: peer_closed()
                    self->close();
                    return;
                }
                self->out_bytes_ -= self->out_.front().bytes.size();
                self->out_.pop_front();
                self->write_next();
                if (self->read_paused_) {
                    self->read();
                }
                if (!self->writing_ && self->instrument_.clock_is_max()) {
                    self->pump();  // max speed: the consumer is ready for more
                }
            });
    }

    // The whole samples among the first `written` bytes of the chunk at the front.
    void count_delivered(std::size_t written) {
        const Chunk& chunk = out_.front();
        if (chunk.samples == 0) {
            return;
        }
        instrument_.count_delivered_samples(
            written == chunk.bytes.size()
                ? chunk.samples
                : static_cast<std::uint64_t>(std::count(
                      chunk.bytes.begin(),
                      chunk.bytes.begin() + static_cast<std::ptrdiff_t>(written), '\n')));
    }

    Stream stream_;
    Instrument& instrument_;
    PeerFaults peer_faults_;
    FrameSession session_;
    asio::streambuf in_;
    std::deque<Chunk> out_;
    std::size_t out_bytes_ = 0;  // in out_
    bool writing_ = false;
    bool read_paused_ = false;
    bool closed_ = false;
    unsigned drop_changes_seen_ = 0;
    bool discarding_ = false;
    std::optional<FrameReply> pending_;
    asio::steady_timer timer_;
    asio::steady_timer drop_timer_;
};

}  // namespace

struct FrameServer::Impl {
    explicit Impl(Instrument& inst)
        : instrument(inst), waker(inst.pace().add_waker([this] { resume_all(); })) {}
    ~Impl() { instrument.pace().remove_waker(waker); }
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    Instrument& instrument;
    asio::io_context io;
    std::list<tcp::acceptor> acceptors;
    std::vector<Pty> ptys;
    std::vector<std::weak_ptr<ConnectionBase>> connections;
    // inotify on a pty's slave path: a client closing it is otherwise invisible to the master
    // while the keepalive descriptor holds the slave open.
    struct PtyWatch {
        asio::posix::stream_descriptor inotify;
        std::weak_ptr<ConnectionBase> connection;
        int slave_fd;  // the pty's keepalive descriptor (Pty owns it)
        std::array<char, 4096> events{};
    };
    std::list<PtyWatch> watches;
    int waker;
    // Beats on the I/O thread: what it could not run for is the consumer's to leave out.
    StarvationMeter meter{beat_period, beat_slack};
    asio::steady_timer beat_timer{io};
    std::thread thread;

    void beat() {
        meter.beat();
        beat_timer.expires_after(beat_period);
        beat_timer.async_wait([this](const boost::system::error_code& ec) {
            if (!ec) {
                beat();
            }
        });
    }

    // From the consumer's thread: the connections are the I/O thread's.
    void resume_all() {
        asio::post(io, [this] {
            for (const auto& weak : connections) {
                if (const auto connection = weak.lock()) {
                    connection->resume();
                }
            }
        });
    }

    PeerFaults peer_faults() {
        return [this](const ConnectionBase* from, const std::string& line) {
            for (const auto& weak : connections) {
                const auto connection = weak.lock();
                if (connection && connection.get() != from) {
                    connection->inject_fault(line);
                }
            }
        };
    }

    void watch(PtyWatch& w) {
        w.inotify.async_read_some(asio::buffer(w.events),
                                  [this, &w](const boost::system::error_code& ec, std::size_t) {
                                      if (ec) {
                                          return;  // closed by stop()
                                      }
                                      if (auto connection = w.connection.lock()) {
                                          connection->peer_closed();
                                      }
                                      // What the slave side already holds, half a line
                                      // included: its line discipline's and flip buffers.
                                      tcflush(w.slave_fd, TCIFLUSH);
                                      watch(w);
                                  });
    }

    void accept(tcp::acceptor& acceptor) {
        acceptor.async_accept(
            [this, &acceptor](const boost::system::error_code& ec, tcp::socket socket) {
                if (ec) {
                    return;  // acceptor closed
                }
                socket.set_option(tcp::no_delay(true));
                auto connection = std::make_shared<Connection<tcp::socket>>(
                    std::move(socket), instrument, peer_faults());
                std::erase_if(connections, [](const auto& weak) { return weak.expired(); });
                connections.push_back(connection);
                connection->start();
                accept(acceptor);
            });
    }
};

FrameServer::FrameServer(Instrument& instrument) : impl_(std::make_unique<Impl>(instrument)) {}

FrameServer::~FrameServer() {
    stop();
}

std::uint16_t FrameServer::listen_tcp(const std::string& address, std::uint16_t port) {
    auto& acceptor = impl_->acceptors.emplace_back(impl_->io);
    const tcp::endpoint endpoint(asio::ip::make_address(address), port);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen();
    impl_->accept(acceptor);
    return acceptor.local_endpoint().port();
}

std::string FrameServer::open_pty() {
    Pty pty = open_raw_pty();
    // The descriptor object owns the master from here on.
    asio::posix::stream_descriptor master(impl_->io, pty.master_fd);
    pty.master_fd = -1;
    auto connection = std::make_shared<Connection<asio::posix::stream_descriptor>>(
        std::move(master), impl_->instrument, impl_->peer_faults());
    impl_->connections.push_back(connection);
    const int inotify = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (inotify < 0 ||
        inotify_add_watch(inotify, pty.slave_path.c_str(), IN_CLOSE_WRITE | IN_CLOSE_NOWRITE) < 0) {
        const auto error = std::error_code(errno, std::generic_category());
        if (inotify >= 0) {
            close(inotify);
        }
        close_pty(pty);
        throw std::system_error(error, "inotify on " + pty.slave_path);
    }
    auto& watch = impl_->watches.emplace_back(Impl::PtyWatch{
        asio::posix::stream_descriptor(impl_->io, inotify), connection, pty.slave_keepalive_fd});
    impl_->watch(watch);
    connection->start();
    impl_->ptys.push_back(pty);
    return pty.slave_path;
}

void FrameServer::start() {
    if (!impl_->thread.joinable()) {
        asio::post(impl_->io, [this] { impl_->beat(); });
        impl_->thread = std::thread([this] { impl_->io.run(); });
    }
}

std::chrono::steady_clock::duration FrameServer::starved() const {
    return impl_->meter.starved();
}

void FrameServer::stop() {
    if (!impl_) {
        return;
    }
    asio::post(impl_->io, [this] {
        for (auto& acceptor : impl_->acceptors) {
            boost::system::error_code ignored;
            acceptor.close(ignored);
        }
        impl_->beat_timer.cancel();
        for (auto& w : impl_->watches) {
            boost::system::error_code ignored;
            w.inotify.close(ignored);
        }
        for (auto& weak : impl_->connections) {
            if (auto connection = weak.lock()) {
                connection->close();
            }
        }
        impl_->io.stop();  // abandons fault timers (late replies) instead of waiting them out
    });
    if (impl_->thread.joinable()) {
        impl_->thread.join();
    } else {
        impl_->io.run();
    }
    for (auto& pty : impl_->ptys) {
        close_pty(pty);
    }
    impl_->ptys.clear();
}

}  // namespace dmacycle::sim
