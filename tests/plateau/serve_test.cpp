// `plateau serve` as a user runs it: health check, metrics, clean stop on SIGINT/SIGTERM.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "support/process.hpp"
#include "support/serve_fixture.hpp"

namespace plateau::testing {
namespace {

class Serve : public ServeFixture {
 protected:
  void Start() { StartServer(); }
};

TEST_F(Serve, HealthzAnswersWithVersion) {
  Start();
  auto r = Http(port_, "GET", "/healthz");
  ASSERT_EQ(r.status, 200);
  auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(j["version"], PLATEAU_VERSION);
}

TEST_F(Serve, UnknownPathIs404InApiErrorShape) {
  Start();
  auto r = Http(port_, "GET", "/no/such/thing");
  ASSERT_EQ(r.status, 404);
  EXPECT_EQ(nlohmann::json::parse(r.body)["error"]["code"], "not_found");
}

TEST_F(Serve, MetricsAreInPrometheusTextFormat) {
  Start();
  Http(port_, "GET", "/healthz");
  auto r = Http(port_, "GET", "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("# TYPE plateau_http_requests_total counter"), std::string::npos);
  EXPECT_NE(r.body.find("plateau_http_requests_total{class=\"2xx\"}"), std::string::npos);
}

TEST_F(Serve, SigtermStopsWithinTwoSeconds) {
  Start();
  server_->Signal(SIGTERM);
  EXPECT_EQ(server_->Wait(std::chrono::seconds(2)), 0);
}

TEST_F(Serve, SigintStopsWithinTwoSecondsEvenWithAnIdleConnectionOpen) {
  Start();
  // An idle keep-alive client must not hold the shutdown.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port_));
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  server_->Signal(SIGINT);
  EXPECT_EQ(server_->Wait(std::chrono::seconds(2)), 0);
  close(fd);
}

TEST_F(Serve, OversizedBodyIsRefusedWith400BodyTooLarge) {
  Start();
  auto r = Http(port_, "POST", "/api/v1/topology", std::string(2 * 1024 * 1024, 'x'));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(nlohmann::json::parse(r.body)["error"]["code"], "body_too_large");
  EXPECT_TRUE(WaitHealthy(port_, std::chrono::seconds(2)));
}

TEST_F(Serve, RootRedirectsToTheChineseConsole) {
  Start();
  auto r = Http(port_, "GET", "/");
  EXPECT_EQ(r.status, 302);
  EXPECT_EQ(r.headers["location"], "/console/");
  auto page = Http(port_, "GET", "/console/");
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.headers["content-type"].find("text/html"), std::string::npos);
  EXPECT_NE(page.body.find("视频会议调度控制台"), std::string::npos);
}

TEST_F(Serve, ConsoleRefusesPathsOutsideItsRoot) {
  Start();
  EXPECT_EQ(Http(port_, "GET", "/console/../meson.build").status, 404);
  EXPECT_EQ(Http(port_, "GET", "/console/%2e%2e/meson.build").status, 404);
  EXPECT_EQ(Http(port_, "GET", "/console/.hidden").status, 404);
  EXPECT_EQ(Http(port_, "GET", "/console/no-such-file.js").status, 404);
}

}  // namespace
}  // namespace plateau::testing
