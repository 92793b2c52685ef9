#pragma once
// A scripted HTTP/1.1 peer on loopback port 0 for the client's own tests: it answers the n-th
// connection with the n-th canned response and records each request as received, so the
// client's paging, headers and error handling are checked over a real socket without dmacycled.
#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace client_test {

struct Canned {
    int status = 200;
    std::string body;
};

class HttpPeer {
  public:
    explicit HttpPeer(std::vector<Canned> answers)
        : answers_(std::move(answers)),
          acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
        thread_ = std::thread([this] { serve(); });
    }
    // Unused answers are dropped: shutdown() wakes the blocked accept() (close() would not).
    ~HttpPeer() {
        ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
        thread_.join();
    }

    std::string url() const {
        return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
    }
    // Each request's head and body as received.
    std::vector<std::string> requests() const {
        std::lock_guard lock(mutex_);
        return requests_;
    }

  private:
    void serve() {
        for (const auto& answer : answers_) {
            boost::system::error_code error;
            boost::asio::ip::tcp::socket socket(io_);
            acceptor_.accept(socket, error);
            if (error) {
                return;
            }
            boost::asio::streambuf buffer;
            const auto head_size = boost::asio::read_until(socket, buffer, "\r\n\r\n", error);
            if (error) {
                return;
            }
            std::string request(boost::asio::buffers_begin(buffer.data()),
                                boost::asio::buffers_begin(buffer.data()) + head_size);
            buffer.consume(head_size);
            std::size_t body_size = 0;
            if (const auto at = request.find("Content-Length: "); at != std::string::npos) {
                body_size = std::stoul(request.substr(at + 16));
            }
            if (buffer.size() < body_size) {
                boost::asio::read(socket, buffer,
                                  boost::asio::transfer_exactly(body_size - buffer.size()), error);
            }
            request.append(boost::asio::buffers_begin(buffer.data()),
                           boost::asio::buffers_begin(buffer.data()) + body_size);
            {
                std::lock_guard lock(mutex_);
                requests_.push_back(request);
            }
            const std::string response =
                "HTTP/1.1 " + std::to_string(answer.status) +
                " Canned\r\nContent-Type: application/json\r\nContent-Length: " +
                std::to_string(answer.body.size()) + "\r\nConnection: close\r\n\r\n" + answer.body;
            boost::asio::write(socket, boost::asio::buffer(response), error);
        }
    }

    std::vector<Canned> answers_;
    boost::asio::io_context io_;
    boost::asio::ip::tcp::acceptor acceptor_;
    std::thread thread_;
    mutable std::mutex mutex_;
    std::vector<std::string> requests_;
};

}  // namespace client_test
