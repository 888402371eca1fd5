// SPDX-License-Identifier: Apache-2.0
// booking-load: many users booking the same few seats through every node at
// once, then a report (docs/booking.md).
//
//   booking-load --nodes 127.0.0.1:8081,127.0.0.1:8082,127.0.0.1:8083
//                [--users 12] [--seats 14A,14B,14C] [--rounds 1] [--chaos]
//                [--pause-ms MS] [--json | --both] [--wait-ready SEC]
//                [--expect-no-double] [--expect-double] [--expect-stale]
//   booking-load --free-ports N     prints N free TCP/UDP ports on 127.0.0.1
//   booking-load --nodes H:P --check-api   checks one node's HTTP answers
//
// double_booked counts the seats that more than one user was told 201 for, or
// whose row was written more than once (the `writes` column in /seats).
//
// --chaos: the node started with --slow-seat SEAT pauses between its checks
// and its write for that seat. booking-load books SEAT there, waits until the
// node is in that window (/health slow_waiting), SIGSTOPs it, books SEAT as
// "rival-user" through the next node (which gets the lease once the stopped
// holder's has run out), keeps it stopped for at least --pause-ms, SIGCONTs
// it, then runs the load. The paused node's late write must be rejected by
// the fencing token.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "json.hpp"

using namespace std::chrono_literals;
namespace json = booking::json;
using Clock = std::chrono::steady_clock;

namespace {

struct Node {
  std::string host;
  int port = 0;
};

struct Options {
  std::vector<Node> nodes;
  int users = 12;
  std::vector<std::string> seats{"14A", "14B", "14C"};
  int rounds = 1;
  bool chaos = false;
  int pause_ms = 0;  // 0: the nodes' ttl * 2
  bool json_out = false;   // the report as one JSON line
  bool text_out = true;    // the report for people
  int wait_ready_s = 0;
  bool expect_no_double = false, expect_double = false, expect_stale = false;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "booking-load: %s\n"
               "usage: booking-load --nodes HOST:PORT,... [--users N] [--seats 14A,14B] [--rounds N]\n"
               "                    [--chaos] [--pause-ms MS] [--json | --both] [--wait-ready SEC]\n"
               "                    [--expect-no-double] [--expect-double] [--expect-stale]\n"
               "       booking-load --free-ports N\n"
               "       booking-load --nodes HOST:PORT --check-api [--wait-ready SEC]\n",
               why.c_str());
  std::exit(2);
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= s.size()) {
    const std::size_t c = std::min(s.find(',', pos), s.size());
    if (c > pos) out.push_back(s.substr(pos, c - pos));
    pos = c + 1;
  }
  return out;
}

int to_int(const std::string& s, const std::string& what) {
  char* end = nullptr;
  const long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end || v < 0 || v > 1000000) usage("bad " + what);
  return static_cast<int>(v);
}

// Ports free for both TCP and UDP on 127.0.0.1 right now (the sockets are
// held until all are chosen, so they are distinct).
int free_ports(int n) {
  std::vector<int> fds;
  for (int i = 0; i < n;) {
    const int t = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (t < 0 || ::bind(t, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return 1;
    ::getsockname(t, reinterpret_cast<sockaddr*>(&a), &len);
    fds.push_back(t);
    const int u = ::socket(AF_INET, SOCK_DGRAM, 0);
    if (u < 0) return 1;
    if (::bind(u, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
      fds.push_back(u);
      std::printf("%s%d", i ? " " : "", ntohs(a.sin_port));
      ++i;
    } else {
      ::close(u);
    }
  }
  std::printf("\n");
  for (int fd : fds) ::close(fd);
  return 0;
}

std::unique_ptr<httplib::Client> client(const Node& n) {
  auto c = std::make_unique<httplib::Client>(n.host, n.port);
  c->set_connection_timeout(5, 0);
  c->set_read_timeout(30, 0);
  c->set_write_timeout(5, 0);
  return c;
}

bool get_json(const Node& n, const char* path, json::Value& out) {
  auto c = client(n);
  c->set_connection_timeout(1, 0);
  c->set_read_timeout(5, 0);
  auto res = c->Get(path);
  if (!res || res->status != 200) return false;
  std::string err;
  return json::parse(res->body, out, err);
}

struct Answer {
  std::string user, seat;
  int node = 0;
  int status = 0;  // 0: no answer
  std::string error;
  double ms = 0;
  std::uint64_t token = 0;
};

Answer book(httplib::Client& c, int node, const std::string& seat, const std::string& user) {
  Answer a;
  a.user = user;
  a.seat = seat;
  a.node = node;
  const std::string body = json::Object().str("seat", seat).str("user", user).done();
  const auto t0 = Clock::now();
  auto res = c.Post("/book", body, "application/json");
  a.ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  if (!res) {
    a.error = "no answer: " + httplib::to_string(res.error());
    return a;
  }
  a.status = res->status;
  json::Value v;
  std::string err;
  if (json::parse(res->body, v, err)) {
    a.error = v.str("error");
    a.token = static_cast<std::uint64_t>(v.num("token"));
  }
  return a;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t i = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// SIGCONT on every exit path once a node was stopped.
struct Continuer {
  pid_t pid = 0;
  ~Continuer() {
    if (pid > 0) ::kill(pid, SIGCONT);
  }
};

// --check-api: the HTTP answers of one node, case by case (ctest booking.api).
int check_api(const Node& n) {
  auto c = client(n);
  int failures = 0;
  auto post = [&](const std::string& body, int want_status, const std::string& want_error, json::Value& got) {
    auto res = c->Post("/book", body, "application/json");
    std::string err;
    const bool ok = res && res->status == want_status && json::parse(res->body, got, err) &&
                    got.str("error") == want_error;
    std::printf("%s POST /book %s -> %d %s (want %d %s)\n", ok ? "ok  " : "FAIL", body.c_str(), res ? res->status : 0,
                res ? res->body.c_str() : "no answer", want_status, want_error.c_str());
    if (!ok) ++failures;
  };
  json::Value v;
  post(R"({"seat":"12A","user":"ana"})", 201, "", v);
  const double token = v.num("token");
  if (token < 1 || v.str("booked") != "12A" || v.str("user") != "ana") {
    std::printf("FAIL 201 body lacks booked/user/token\n");
    ++failures;
  }
  post(R"({"seat":"12A","user":"bob"})", 409, "taken", v);
  if (v.str("holder") != "ana") {
    std::printf("FAIL 409 body does not name the holder\n");
    ++failures;
  }
  post(R"({"seat":"99Z","user":"ana"})", 400, "unknown_seat", v);
  post(R"({"seat":"12B"})", 400, "bad_user", v);
  post(R"({"seat":"12B","user":""})", 400, "bad_user", v);
  post(R"({"seat":12,"user":"ana"})", 400, "bad_seat", v);
  post(R"({"user":"ana"})", 400, "bad_seat", v);
  post("not json", 400, "bad_json", v);
  post(R"({"seat":"12B","user":"ana",})", 400, "bad_json", v);
  post(R"(["12B","ana"])", 400, "bad_json", v);
  // The database row: the booking, its node, and the fence at its token.
  json::Value seats;
  bool row_ok = false;
  if (get_json(n, "/seats", seats))
    if (const json::Value* list = seats.get("seats"))
      for (const auto& s : list->a)
        if (s.str("id") == "12A")
          row_ok = s.str("user") == "ana" && s.num("token") == token && s.num("fence") == token &&
                   s.num("writes") == 1 && s.num("node") >= 1;
  std::printf("%s GET /seats: 12A held by ana with token = fence = %.0f, written once\n", row_ok ? "ok  " : "FAIL",
              token);
  if (!row_ok) ++failures;
  auto page = c->Get("/");
  const bool page_ok = page && page->status == 200 && page->body.find("fetch(\"/seats\"") != std::string::npos;
  std::printf("%s GET / serves the seat map page\n", page_ok ? "ok  " : "FAIL");
  if (!page_ok) ++failures;
  return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  bool check_api_only = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage("missing value for " + a);
      return argv[++i];
    };
    if (a == "--free-ports") return free_ports(std::max(1, to_int(next(), "--free-ports")));
    if (a == "--check-api") {
      check_api_only = true;
      continue;
    }
    if (a == "--nodes") {
      for (const auto& item : split(next())) {
        const std::size_t colon = item.rfind(':');
        if (colon == std::string::npos) usage("bad --nodes item (want HOST:PORT)");
        o.nodes.push_back({item.substr(0, colon), to_int(item.substr(colon + 1), "node port")});
      }
    } else if (a == "--users") o.users = std::max(1, to_int(next(), "--users"));
    else if (a == "--seats") o.seats = split(next());
    else if (a == "--rounds") o.rounds = std::max(1, to_int(next(), "--rounds"));
    else if (a == "--chaos") o.chaos = true;
    else if (a == "--pause-ms") o.pause_ms = to_int(next(), "--pause-ms");
    else if (a == "--json") { o.json_out = true; o.text_out = false; }
    else if (a == "--both") o.json_out = o.text_out = true;
    else if (a == "--wait-ready") o.wait_ready_s = to_int(next(), "--wait-ready");
    else if (a == "--expect-no-double") o.expect_no_double = true;
    else if (a == "--expect-double") o.expect_double = true;
    else if (a == "--expect-stale") o.expect_stale = true;
    else if (a == "-h" || a == "--help") usage("help");
    else usage("unknown argument " + a);
  }
  if (o.nodes.empty()) usage("--nodes is required");
  if (o.seats.empty()) usage("--seats is empty");

  // Every node answers /health (waiting up to --wait-ready seconds).
  std::vector<json::Value> health(o.nodes.size());
  const auto ready_deadline = Clock::now() + std::chrono::seconds(o.wait_ready_s);
  for (std::size_t i = 0; i < o.nodes.size(); ++i) {
    while (!get_json(o.nodes[i], "/health", health[i])) {
      if (Clock::now() >= ready_deadline) {
        std::fprintf(stderr, "booking-load: node %s:%d does not answer /health\n", o.nodes[i].host.c_str(),
                     o.nodes[i].port);
        return 1;
      }
      std::this_thread::sleep_for(100ms);
    }
  }
  if (check_api_only) return check_api(o.nodes[0]);
  const std::string mode = health[0].str("mode");

  // Chaos: the victim booking on the node with the slow hook.
  std::vector<Answer> answers;
  std::mutex answers_mu;
  std::thread victim;
  Continuer continuer;
  int victim_index = -1;
  std::string chaos_seat;
  int pause_ms = o.pause_ms;
  double paused_ms = 0;
  if (o.chaos) {
    for (std::size_t i = 0; i < o.nodes.size(); ++i)
      if (!health[i].str("slow_seat").empty()) victim_index = static_cast<int>(i);
    if (victim_index < 0) {
      std::fprintf(stderr, "booking-load: --chaos needs a node started with --slow-seat SEAT\n");
      return 1;
    }
    const json::Value& h = health[static_cast<std::size_t>(victim_index)];
    chaos_seat = h.str("slow_seat");
    if (pause_ms == 0) pause_ms = static_cast<int>(h.num("ttl_ms", 1000)) * 2;
    victim = std::thread([&, vi = victim_index] {
      auto c = client(o.nodes[static_cast<std::size_t>(vi)]);
      Answer a = book(*c, vi + 1, chaos_seat, "paused-user");
      std::lock_guard<std::mutex> lock(answers_mu);
      answers.push_back(a);
    });
    // Wait until the victim holds the lease and sits between check and write.
    const auto deadline = Clock::now() + 10s;
    bool in_window = false;
    while (Clock::now() < deadline) {
      json::Value v;
      if (get_json(o.nodes[static_cast<std::size_t>(victim_index)], "/health", v) && v.num("slow_waiting") > 0) {
        in_window = true;
        break;
      }
      std::this_thread::sleep_for(5ms);
    }
    if (!in_window) {
      std::fprintf(stderr, "booking-load: the slow node never reached its slow window\n");
      victim.join();
      return 1;
    }
    continuer.pid = static_cast<pid_t>(h.num("pid"));
    if (::kill(continuer.pid, SIGSTOP) != 0) {
      std::perror("booking-load: SIGSTOP");
      continuer.pid = 0;
      victim.join();
      return 1;
    }
  }
  const auto load_start = Clock::now();

  if (o.chaos) {
    // While the victim is stopped, one rival books the seat through the next
    // node: its acquire gets the lease once the victim's has run out at the
    // voters (its ttl), with a higher token. Keep the victim stopped for at
    // least --pause-ms and until the rival has its answer.
    const std::size_t other = static_cast<std::size_t>(victim_index + 1) % o.nodes.size();
    const auto stop_until = load_start + std::chrono::milliseconds(pause_ms);
    const auto give_up = load_start + 20s;
    auto c = client(o.nodes[other]);
    for (;;) {
      Answer a = book(*c, static_cast<int>(other) + 1, chaos_seat, "rival-user");
      {
        std::lock_guard<std::mutex> lock(answers_mu);
        answers.push_back(a);
      }
      if (a.status == 201 || a.status == 409 || Clock::now() >= give_up) break;
      std::this_thread::sleep_for(50ms);  // 423 (no lease in time): try again
    }
    std::this_thread::sleep_until(stop_until);
    paused_ms = std::chrono::duration<double, std::milli>(Clock::now() - load_start).count();
    ::kill(continuer.pid, SIGCONT);
    continuer.pid = 0;
    victim.join();
  }

  // The users: every user books every seat (same order for all, so that they
  // collide), each request through a different node.
  std::atomic<int> ready{0};
  std::vector<std::thread> users;
  for (int u = 0; u < o.users; ++u) {
    users.emplace_back([&, u] {
      std::vector<std::unique_ptr<httplib::Client>> clients;
      for (const auto& n : o.nodes) clients.push_back(client(n));
      std::vector<Answer> mine;
      ready.fetch_add(1);
      while (ready.load() < o.users) std::this_thread::sleep_for(1ms);
      int k = 0;
      for (int r = 0; r < o.rounds; ++r)
        for (const auto& seat : o.seats) {
          const std::size_t ni = static_cast<std::size_t>(u + k++) % o.nodes.size();
          mine.push_back(book(*clients[ni], static_cast<int>(ni) + 1, seat, "user" + std::to_string(u)));
        }
      std::lock_guard<std::mutex> lock(answers_mu);
      answers.insert(answers.end(), mine.begin(), mine.end());
    });
  }

  for (auto& t : users) t.join();
  const double wall_ms = std::chrono::duration<double, std::milli>(Clock::now() - load_start).count();

  // The database's view, through the first node that answers.
  json::Value db;
  bool have_db = false;
  for (const auto& n : o.nodes)
    if ((have_db = get_json(n, "/seats", db))) break;
  if (!have_db) {
    std::fprintf(stderr, "booking-load: no node answers /seats\n");
    return 1;
  }

  // Tally.
  int booked = 0, taken = 0, stale = 0, no_lease = 0, bad = 0, failed = 0;
  std::vector<double> lat;
  std::map<std::string, std::set<std::string>> told_201;
  const Answer* victim_answer = nullptr;
  const Answer* rival_answer = nullptr;
  for (const auto& a : answers) {
    lat.push_back(a.ms);
    if (a.user == "paused-user") victim_answer = &a;
    if (a.user == "rival-user" && a.status == 201) rival_answer = &a;
    if (a.status == 201) {
      ++booked;
      told_201[a.seat].insert(a.user);
    } else if (a.status == 409 && a.error == "stale_token") ++stale;
    else if (a.status == 409) ++taken;
    else if (a.status == 423) ++no_lease;
    else if (a.status == 400) ++bad;
    else ++failed;
  }
  struct SeatRow {
    std::string id, user;
    std::int64_t node = 0, token = 0, writes = 0;
    std::size_t told = 0;
  };
  std::vector<SeatRow> rows;
  int double_booked = 0;
  if (const json::Value* seats = db.get("seats")) {
    for (const auto& s : seats->a) {
      const std::string id = s.str("id");
      if (std::find(o.seats.begin(), o.seats.end(), id) == o.seats.end()) continue;
      SeatRow r{id, s.str("user"), static_cast<std::int64_t>(s.num("node")), static_cast<std::int64_t>(s.num("token")),
                static_cast<std::int64_t>(s.num("writes")), told_201[id].size()};
      if (r.told > 1 || r.writes > 1) ++double_booked;
      rows.push_back(r);
    }
  }
  const auto stale_db = static_cast<std::int64_t>(db.num("stale_writes_rejected"));
  const double p50 = percentile(lat, 50), p90 = percentile(lat, 90), p99 = percentile(lat, 99),
               pmax = percentile(lat, 100);

  if (o.text_out) {
    std::printf("Booking load: %zu nodes (%s), %d users, seats %zu, %d round(s), %.0f ms\n", o.nodes.size(),
                mode == "baton" ? "Baton leases + fencing tokens" : "BASELINE: no lease, no fence", o.users,
                o.seats.size(), o.rounds, wall_ms);
    std::printf("  requests               %zu\n", answers.size());
    std::printf("  201 booked             %d\n", booked);
    std::printf("  409 already taken      %d\n", taken);
    std::printf("  409 stale write        %d\n", stale);
    std::printf("  423 no lease in time   %d\n", no_lease);
    if (bad + failed) std::printf("  other / no answer      %d\n", bad + failed);
    std::printf("  per seat:\n");
    for (const auto& r : rows)
      std::printf("    %-4s %-12s node %lld token %-6lld told 201: %zu  rows written: %lld%s\n", r.id.c_str(),
                  r.user.empty() ? "(free)" : r.user.c_str(), static_cast<long long>(r.node),
                  static_cast<long long>(r.token), r.told, static_cast<long long>(r.writes),
                  r.told > 1 || r.writes > 1 ? "   <-- DOUBLE BOOKED" : "");
    std::printf("  double booked seats    %d\n", double_booked);
    std::printf("  stale writes rejected  %lld (database counter)\n", static_cast<long long>(stale_db));
    if (o.chaos) {
      std::printf("  chaos: node %d SIGSTOPped %.0f ms while holding seat:%s", victim_index + 1, paused_ms,
                  chaos_seat.c_str());
      if (victim_answer)
        std::printf(" (token %llu) -> its late write answered %d %s", static_cast<unsigned long long>(victim_answer->token),
                    victim_answer->status, victim_answer->error.c_str());
      if (rival_answer)
        std::printf("\n         meanwhile rival-user booked %s through node %d with token %llu", chaos_seat.c_str(),
                    rival_answer->node, static_cast<unsigned long long>(rival_answer->token));
      std::printf("\n");
    }
    std::printf("  latency ms             p50 %.1f  p90 %.1f  p99 %.1f  max %.1f\n", p50, p90, p99, pmax);
  }

  if (o.json_out) {
    std::string seats = "[";
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto& r = rows[i];
      json::Object so;
      so.str("seat", r.id);
      if (r.user.empty()) so.null("user");
      else so.str("user", r.user);
      so.num("node", r.node).num("token", r.token).num("writes", r.writes).num("told_201", static_cast<std::int64_t>(r.told));
      seats += (i ? "," : "") + so.done();
    }
    seats += "]";
    json::Object out;
    out.str("mode", mode)
        .num("nodes", static_cast<std::int64_t>(o.nodes.size()))
        .num("users", o.users)
        .num("requests", static_cast<std::int64_t>(answers.size()))
        .num("booked", booked)
        .num("taken", taken)
        .num("stale_answers", stale)
        .num("no_lease", no_lease)
        .num("bad_request", bad)
        .num("failed", failed)
        .num("double_booked", double_booked)
        .num("stale_writes_rejected", stale_db)
        .dbl("p50_ms", p50)
        .dbl("p90_ms", p90)
        .dbl("p99_ms", p99)
        .dbl("max_ms", pmax)
        .dbl("wall_ms", wall_ms)
        .raw("seats", seats);
    if (o.chaos) {
      json::Object c;
      c.num("node", victim_index + 1).str("seat", chaos_seat).dbl("paused_ms", paused_ms);
      if (victim_answer) c.num("status", victim_answer->status).str("error", victim_answer->error).unum("token", victim_answer->token);
      if (rival_answer) c.num("rival_node", rival_answer->node).unum("rival_token", rival_answer->token);
      out.raw("chaos", c.done());
    }
    std::printf("%s\n", out.done().c_str());
  }

  int rc = 0;
  if (o.expect_no_double && double_booked != 0) {
    std::fprintf(stderr, "booking-load: FAIL: %d seat(s) double booked\n", double_booked);
    rc = 1;
  }
  if (o.expect_no_double && booked != static_cast<int>(o.seats.size())) {
    std::fprintf(stderr, "booking-load: FAIL: %d bookings for %zu seats\n", booked, o.seats.size());
    rc = 1;
  }
  if (o.expect_double && double_booked == 0) {
    std::fprintf(stderr, "booking-load: FAIL: expected double bookings without Baton, saw none\n");
    rc = 1;
  }
  if (o.expect_stale) {
    if (stale_db < 1 || !victim_answer || victim_answer->status != 409 || victim_answer->error != "stale_token") {
      std::fprintf(stderr, "booking-load: FAIL: expected the paused node's write to be rejected as stale\n");
      rc = 1;
    }
  }
  return rc;
}
