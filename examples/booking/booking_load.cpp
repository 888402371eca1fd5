// SPDX-License-Identifier: Apache-2.0
// booking-load: many users booking the same few seats through every node at
// once, then a report (docs/booking.md).
//
//   booking-load --nodes 127.0.0.1:8081,127.0.0.1:8082,127.0.0.1:8083
//                [--users 12] [--seats 14A,14B,14C] [--rounds 1] [--chaos]
//                [--pause-ms MS] [--json | --both] [--wait-ready SEC]
//                [--expect-no-double] [--expect-double] [--expect-stale]
//   booking-load --free-ports N     prints N free TCP/UDP ports on 127.0.0.1
//                                   (examples/common/ports.hpp)
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
#include <CLI/CLI.hpp>
#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
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

#include <nlohmann/json.hpp>

#include "ports.hpp"  // examples/common: free local ports

using namespace std::chrono_literals;
using Json = nlohmann::ordered_json;  // fields in the order set
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
  std::fprintf(stderr, "booking-load: %s (see booking-load --help)\n", why.c_str());
  std::exit(2);
}

// A node's answer, read leniently: a missing field or one of another type
// reads as the fallback.
std::string str(const Json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
double num(const Json& j, const char* key, double fallback = 0) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : fallback;
}
// Parses `text`; false (and `out` untouched) when it is not JSON.
bool parse(const std::string& text, Json& out) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return false;
  out = std::move(j);
  return true;
}
std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }
// `x` to 3 decimals (the report's milliseconds).
double ms3(double x) { return std::round(x * 1000.0) / 1000.0; }

std::unique_ptr<httplib::Client> client(const Node& n) {
  auto c = std::make_unique<httplib::Client>(n.host, n.port);
  c->set_connection_timeout(5, 0);
  c->set_read_timeout(30, 0);
  c->set_write_timeout(5, 0);
  return c;
}

bool get_json(const Node& n, const char* path, Json& out) {
  auto c = client(n);
  c->set_connection_timeout(1, 0);
  c->set_read_timeout(5, 0);
  auto res = c->Get(path);
  if (!res || res->status != 200) return false;
  return parse(res->body, out);
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
  const std::string body = dump({{"seat", seat}, {"user", user}});
  const auto t0 = Clock::now();
  auto res = c.Post("/book", body, "application/json");
  a.ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  if (!res) {
    a.error = "no answer: " + httplib::to_string(res.error());
    return a;
  }
  a.status = res->status;
  Json v;
  if (parse(res->body, v)) {
    a.error = str(v, "error");
    a.token = static_cast<std::uint64_t>(num(v, "token"));
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
  auto post = [&](const std::string& body, int want_status, const std::string& want_error, Json& got) {
    auto res = c->Post("/book", body, "application/json");
    const bool ok = res && res->status == want_status && parse(res->body, got) && str(got, "error") == want_error;
    std::printf("%s POST /book %s -> %d %s (want %d %s)\n", ok ? "ok  " : "FAIL", body.c_str(), res ? res->status : 0,
                res ? res->body.c_str() : "no answer", want_status, want_error.c_str());
    if (!ok) ++failures;
  };
  Json v;
  post(R"({"seat":"12A","user":"ana"})", 201, "", v);
  const double token = num(v, "token");
  if (token < 1 || str(v, "booked") != "12A" || str(v, "user") != "ana") {
    std::printf("FAIL 201 body lacks booked/user/token\n");
    ++failures;
  }
  post(R"({"seat":"12A","user":"bob"})", 409, "taken", v);
  if (str(v, "holder") != "ana") {
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
  Json seats;
  bool row_ok = false;
  if (get_json(n, "/seats", seats) && seats.contains("seats") && seats["seats"].is_array())
    for (const auto& s : seats["seats"])
      if (str(s, "id") == "12A")
        row_ok = str(s, "user") == "ana" && num(s, "token") == token && num(s, "fence") == token &&
                 num(s, "writes") == 1 && num(s, "node") >= 1;
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
  bool check_api_only = false, json_only = false, both = false;
  std::size_t free_ports = 0;
  std::vector<std::string> nodes;
  CLI::App app("booking-load: many users booking the same few seats through every node at once, then a report\n"
               "(docs/booking.md).",
               "booking-load");
  const auto count = CLI::Range(0, 1000000);
  app.add_option("--nodes", nodes, "the booking nodes' HTTP addresses: HOST:PORT,...")->delimiter(',');
  app.add_option("--users", o.users, "concurrent users (default 12)")->check(count);
  app.add_option("--seats", o.seats, "the seats every user books (default 14A,14B,14C)")->delimiter(',');
  app.add_option("--rounds", o.rounds, "rounds over the seats (default 1)")->check(count);
  app.add_flag("--chaos", o.chaos, "SIGSTOP the --slow-seat node mid-booking, book its seat elsewhere");
  app.add_option("--pause-ms", o.pause_ms, "--chaos: how long the node stays stopped (default: 2 ttl)")->check(count);
  app.add_flag("--json", json_only, "the report as one JSON line only");
  app.add_flag("--both", both, "the report for people, then as one JSON line");
  app.add_option("--wait-ready", o.wait_ready_s, "wait this many seconds for every node's /health")->check(count);
  app.add_flag("--expect-no-double", o.expect_no_double, "exit 1 unless every seat was booked exactly once");
  app.add_flag("--expect-double", o.expect_double, "exit 1 unless some seat was double booked");
  app.add_flag("--expect-stale", o.expect_stale, "exit 1 unless the paused node's write was rejected as stale");
  app.add_option("--free-ports", free_ports, "print N ports free for TCP and UDP on 127.0.0.1, then exit")
      ->check(CLI::Range(1, 1000));
  app.add_flag("--check-api", check_api_only, "check one node's HTTP answers case by case");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  } catch (const CLI::ParseError& e) {
    usage(e.what());
  }
  if (free_ports > 0) {
    const auto ports = baton::examples::free_local_ports(free_ports);
    if (ports.empty()) return 1;
    for (std::size_t i = 0; i < ports.size(); ++i) std::printf("%s%u", i ? " " : "", ports[i]);
    std::printf("\n");
    return 0;
  }
  for (const auto& item : nodes) {
    const std::size_t colon = item.rfind(':');
    int port = 0;
    if (colon != std::string::npos) {
      const std::string p = item.substr(colon + 1);
      const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
      if (ec != std::errc{} || end != p.data() + p.size() || port < 1 || port > 65535) port = 0;
    }
    if (port == 0) usage("--nodes: '" + item + "' is not HOST:PORT");
    o.nodes.push_back({item.substr(0, colon), port});
  }
  o.users = std::max(1, o.users);
  o.rounds = std::max(1, o.rounds);
  if (json_only) o.text_out = false;
  if (json_only || both) o.json_out = true;
  if (o.nodes.empty()) usage("--nodes is required");
  if (o.seats.empty()) usage("--seats is empty");

  // Every node answers /health (waiting up to --wait-ready seconds).
  std::vector<Json> health(o.nodes.size());
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
  const std::string mode = str(health[0], "mode");

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
      if (!str(health[i], "slow_seat").empty()) victim_index = static_cast<int>(i);
    if (victim_index < 0) {
      std::fprintf(stderr, "booking-load: --chaos needs a node started with --slow-seat SEAT\n");
      return 1;
    }
    const Json& h = health[static_cast<std::size_t>(victim_index)];
    chaos_seat = str(h, "slow_seat");
    if (pause_ms == 0) pause_ms = static_cast<int>(num(h, "ttl_ms", 1000)) * 2;
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
      Json v;
      if (get_json(o.nodes[static_cast<std::size_t>(victim_index)], "/health", v) && num(v, "slow_waiting") > 0) {
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
    continuer.pid = static_cast<pid_t>(num(h, "pid"));
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
  Json db;
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
  if (db.contains("seats") && db["seats"].is_array()) {
    for (const auto& s : db["seats"]) {
      const std::string id = str(s, "id");
      if (std::find(o.seats.begin(), o.seats.end(), id) == o.seats.end()) continue;
      SeatRow r{id, str(s, "user"), static_cast<std::int64_t>(num(s, "node")), static_cast<std::int64_t>(num(s, "token")),
                static_cast<std::int64_t>(num(s, "writes")), told_201[id].size()};
      if (r.told > 1 || r.writes > 1) ++double_booked;
      rows.push_back(r);
    }
  }
  const auto stale_db = static_cast<std::int64_t>(num(db, "stale_writes_rejected"));
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
    Json seats = Json::array();
    for (const auto& r : rows) {
      seats.push_back({{"seat", r.id},
                       {"user", r.user.empty() ? Json(nullptr) : Json(r.user)},
                       {"node", r.node},
                       {"token", r.token},
                       {"writes", r.writes},
                       {"told_201", r.told}});
    }
    Json out;
    out["mode"] = mode;
    out["nodes"] = o.nodes.size();
    out["users"] = o.users;
    out["requests"] = answers.size();
    out["booked"] = booked;
    out["taken"] = taken;
    out["stale_answers"] = stale;
    out["no_lease"] = no_lease;
    out["bad_request"] = bad;
    out["failed"] = failed;
    out["double_booked"] = double_booked;
    out["stale_writes_rejected"] = stale_db;
    out["p50_ms"] = ms3(p50);
    out["p90_ms"] = ms3(p90);
    out["p99_ms"] = ms3(p99);
    out["max_ms"] = ms3(pmax);
    out["wall_ms"] = ms3(wall_ms);
    out["seats"] = std::move(seats);
    if (o.chaos) {
      Json c;
      c["node"] = victim_index + 1;
      c["seat"] = chaos_seat;
      c["paused_ms"] = ms3(paused_ms);
      if (victim_answer) {
        c["status"] = victim_answer->status;
        c["error"] = victim_answer->error;
        c["token"] = victim_answer->token;
      }
      if (rival_answer) {
        c["rival_node"] = rival_answer->node;
        c["rival_token"] = rival_answer->token;
      }
      out["chaos"] = std::move(c);
    }
    std::printf("%s\n", dump(out).c_str());
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
