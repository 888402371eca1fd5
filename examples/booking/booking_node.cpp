// SPDX-License-Identifier: Apache-2.0
// booking-node: one application server of the seat-booking example
// (docs/booking.md). It is a member of a Baton cluster, or with --client a
// client of one (it takes leases through the members and votes on nothing),
// and serves HTTP:
//
//   GET  /        the live seat map (page.html, compiled in)
//   GET  /seats   the seat map, stale-write counter and recent rejected writes, as JSON
//   GET  /health  this node: id, client or member, pid, mode, slow-hook state
//   POST /book    {"seat":"14A","user":"ana"} -> 201 booked, 409 taken (or stale
//                 write rejected), 423 no lease in time, 400 bad input
//
// Every node opens the same SQLite database. A booking takes the lease
// "seat:<id>", reads the seat, and writes it with the lease's fencing token:
//
//   UPDATE seats SET user=?, node=?, token=?, fence=?, writes=writes+1, booked_at_ms=?
//    WHERE id=? AND fence < ?
//
// so a holder that was paused past its lease (and was replaced by a holder
// with a higher token) cannot overwrite the newer booking.
//
// --baseline runs the same service without Baton: check, then write, no lease
// and no fence, the way the airline's servers did it.
#include <CLI/CLI.hpp>
#include <httplib.h>
#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <baton/baton.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "booking_page.hpp"
#include <nlohmann/json.hpp>

using namespace std::chrono_literals;
using Json = nlohmann::ordered_json;  // fields in the order set

namespace {

struct Options {
  std::uint32_t id = 0;        // a member's --id; a client's id, drawn at start
  bool client = false;         // --client: take leases through --members, vote on nothing
  std::vector<baton::Member> members;
  std::uint16_t http_port = 0;
  std::string db;
  std::string state_dir;
  bool bootstrap = false;      // with --state-dir: the cluster's first start
  bool baseline = false;
  std::string slow_seat;       // debug hook: pause between the checks and the write
  int slow_ms = 0;
  int race_ms = 30;            // baseline: time between the check and the write
  int ttl_ms = 1000;           // lease ttl
  int wait_ms = 5000;          // how long a booking waits for the seat's lease
};

constexpr const char* description =
    "booking-node: one application server of the seat-booking example (docs/booking.md): a Baton member\n"
    "(--id N), or with --client a client of --members, serving HTTP over a shared SQLite database.\n"
    "--members is the library's syntax, the same as batonctl's: ID=HOST:PORT,... (IPv6 as [::1]:PORT).\n"
    "--client: not a member but a client of --members (e.g. three `batonctl node` voters with\n"
    "--cluster-id 45068 and the demo key, \"42\" 32 times, in --key-file: docs/booking.md); no --id,\n"
    "--state-dir or --bootstrap.";

// Bad flags: the message (naming the flag and the value), exit 2.
[[noreturn]] void usage_error(const std::string& why) {
  std::fprintf(stderr, "booking-node: %s (see booking-node --help)\n", why.c_str());
  std::exit(2);
}

Options parse_args(int argc, char** argv) {
  Options o;
  std::string members;
  CLI::App app(description, "booking-node");
  const auto ms = CLI::Range(0, 1000000);
  app.add_option("--id", o.id, "this node's member id, one of --members")
      ->check(CLI::Range(std::uint32_t{1}, baton::member_id_max));
  app.add_flag("--client", o.client, "take leases through --members, vote on nothing");
  app.add_option("--members", members, "the Baton members: ID=HOST:PORT,... (required unless --baseline)");
  app.add_option("--http", o.http_port, "HTTP port on 127.0.0.1 (required)")->check(CLI::Range(1, 65535));
  app.add_option("--db", o.db, "the SQLite database file, shared by every node (required)");
  app.add_option("--state-dir", o.state_dir, "persist this member's floor reservation here (restarts)");
  app.add_flag("--bootstrap", o.bootstrap, "with --state-dir: the cluster's first start");
  app.add_flag("--baseline", o.baseline, "no lease and no fence: check, then write");
  app.add_option("--race-ms", o.race_ms, "baseline: time between the check and the write (default 30)")->check(ms);
  app.add_option("--ttl-ms", o.ttl_ms, "lease ttl (default 1000)")->check(ms);
  app.add_option("--wait-ms", o.wait_ms, "how long a booking waits for the seat's lease (default 5000)")->check(ms);
  app.add_option("--slow-seat", o.slow_seat, "debug hook: pause before the write for this seat");
  app.add_option("--slow-ms", o.slow_ms, "the --slow-seat pause")->check(ms);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    std::exit(0);
  } catch (const CLI::ParseError& e) {
    usage_error(e.what());
  }
  if (!members.empty()) {
    auto parsed = baton::parse_members(members);
    if (!parsed) usage_error("--members: " + std::string(parsed.error().what));
    o.members = std::move(*parsed);
  }
  if (o.db.empty()) usage_error("--db is required");
  if (o.http_port == 0) usage_error("--http is required");
  if (o.client) {
    if (o.id != 0) usage_error("--client and --id exclude each other: a client has no member id");
    if (!o.state_dir.empty() || o.bootstrap) usage_error("--client keeps no state: no --state-dir or --bootstrap");
    if (o.baseline) usage_error("--client and --baseline exclude each other");
    if (o.members.empty()) usage_error("--client needs --members (the voters)");
  } else if (!o.baseline) {
    if (o.members.empty() || o.id == 0) usage_error("--members and --id are required unless --baseline or --client");
    const bool listed = std::any_of(o.members.begin(), o.members.end(), [&](const baton::Member& m) { return m.id == o.id; });
    if (!listed) usage_error("--id " + std::to_string(o.id) + " is not one of --members '" + members + "'");
  }
  if (o.baseline && o.id == 0) o.id = 1;
  return o;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The seat map: rows 12..16, seats A..F.
std::vector<std::string> all_seats() {
  std::vector<std::string> s;
  for (int row = 12; row <= 16; ++row)
    for (char c = 'A'; c <= 'F'; ++c) s.push_back(std::to_string(row) + c);
  return s;
}

// ---------------------------------------------------------------- database

// One connection per HTTP worker thread (thread_local below). SQLite
// serializes writers across processes; WAL lets readers run alongside.
class Db {
 public:
  explicit Db(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK)
      throw std::runtime_error("cannot open database " + path);
    sqlite3_busy_timeout(db_, 10000);
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=NORMAL");
  }
  ~Db() { sqlite3_close(db_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Retries SQLITE_BUSY: SQLite skips the busy handler in some cases, e.g.
  // when several processes switch a fresh file to WAL at the same moment.
  void exec(const char* sql) {
    char* err = nullptr;
    int rc = SQLITE_OK;
    for (int attempt = 0; attempt < 250; ++attempt) {
      rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
      if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
      sqlite3_free(err);
      err = nullptr;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (rc != SQLITE_OK) {
      std::string what = err ? err : "?";
      sqlite3_free(err);
      throw std::runtime_error(std::string("sqlite: ") + what + " in: " + sql);
    }
  }

  class Stmt {
   public:
    Stmt(sqlite3* db, const char* sql) : db_(db) {
      if (sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) != SQLITE_OK)
        throw std::runtime_error(std::string("sqlite prepare: ") + sqlite3_errmsg(db));
    }
    ~Stmt() { sqlite3_finalize(s_); }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;
    Stmt& bind(int i, std::int64_t v) {
      sqlite3_bind_int64(s_, i, v);
      return *this;
    }
    Stmt& bind(int i, const std::string& v) {
      sqlite3_bind_text(s_, i, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
      return *this;
    }
    bool step() {  // true: a row is available
      const int rc = sqlite3_step(s_);
      if (rc == SQLITE_ROW) return true;
      if (rc == SQLITE_DONE) return false;
      throw std::runtime_error(std::string("sqlite step: ") + sqlite3_errmsg(db_));
    }
    std::int64_t i64(int col) { return sqlite3_column_int64(s_, col); }
    bool is_null(int col) { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
    std::string text(int col) {
      const unsigned char* t = sqlite3_column_text(s_, col);
      return t ? reinterpret_cast<const char*>(t) : "";
    }

   private:
    sqlite3* db_;
    sqlite3_stmt* s_ = nullptr;
  };

  Stmt prepare(const char* sql) { return Stmt(db_, sql); }
  int changes() { return sqlite3_changes(db_); }

 private:
  sqlite3* db_ = nullptr;
};

void init_schema(const std::string& path) {
  Db db(path);
  db.exec("BEGIN IMMEDIATE");
  db.exec(
      "CREATE TABLE IF NOT EXISTS seats("
      " id TEXT PRIMARY KEY,"
      " user TEXT,"                                 // who holds the seat (NULL: free)
      " node INTEGER,"                              // which node wrote the booking
      " token INTEGER NOT NULL DEFAULT 0,"          // the lease token of that write
      " fence INTEGER NOT NULL DEFAULT 0,"          // highest token ever written to the row
      " writes INTEGER NOT NULL DEFAULT 0,"         // successful writes (more than 1: double booking)
      " booked_at_ms INTEGER)");
  db.exec(
      "CREATE TABLE IF NOT EXISTS rejected("         // bounded log of stale writes refused by the fence
      " n INTEGER PRIMARY KEY AUTOINCREMENT, seat TEXT, user TEXT, node INTEGER,"
      " token INTEGER, fence INTEGER, at_ms INTEGER)");
  db.exec("CREATE TABLE IF NOT EXISTS counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL)");
  db.exec("INSERT OR IGNORE INTO counters VALUES('stale_rejected', 0)");
  for (const auto& s : all_seats()) {
    Db::Stmt one = db.prepare("INSERT OR IGNORE INTO seats(id) VALUES(?)");
    one.bind(1, s).step();
  }
  db.exec("COMMIT");
}

constexpr int rejected_log_max = 20;

// ---------------------------------------------------------------- service

struct Reply {
  int status;
  std::string body;
};

// One line of JSON; text that is not UTF-8 (from the database) comes out as
// U+FFFD instead of throwing.
std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

Reply error_reply(int status, std::string_view error, std::string_view why) {
  return {status, dump({{"error", std::string(error)}, {"why", std::string(why)}})};
}

class Service {
 public:
  Service(Options opts, baton::Cluster* cluster) : o_(std::move(opts)), cluster_(cluster), seats_(all_seats()) {}

  Db& db() {
    thread_local std::unique_ptr<Db> conn;
    if (!conn) conn = std::make_unique<Db>(o_.db);
    return *conn;
  }

  Reply book(const std::string& body) {
    nlohmann::json req;
    try {
      req = nlohmann::json::parse(body);
    } catch (const nlohmann::json::parse_error& e) {
      return error_reply(400, "bad_json", e.what());
    }
    if (!req.is_object()) return error_reply(400, "bad_json", "the body must be a JSON object");
    const auto seat_v = req.find("seat");
    const auto user_v = req.find("user");
    if (seat_v == req.end() || !seat_v->is_string())
      return error_reply(400, "bad_seat", "missing \"seat\" (a string such as \"14A\")");
    if (user_v == req.end() || !user_v->is_string() || user_v->get_ref<const std::string&>().empty())
      return error_reply(400, "bad_user", "missing \"user\" (a non-empty string)");
    const std::string& seat = seat_v->get_ref<const std::string&>();
    const std::string& user = user_v->get_ref<const std::string&>();
    if (user.size() > 64) return error_reply(400, "bad_user", "\"user\" is longer than 64 bytes");
    if (std::find(seats_.begin(), seats_.end(), seat) == seats_.end())
      return error_reply(400, "unknown_seat", "no such seat: rows 12-16, seats A-F, e.g. \"14A\"");
    return o_.baseline ? book_baseline(seat, user) : book_with_lease(seat, user);
  }

  // The unsafe way: check, then write. Two nodes can both see "free".
  Reply book_baseline(const std::string& seat, const std::string& user) {
    Db& d = db();
    if (auto holder = read_holder(d, seat)) return taken(seat, *holder);
    std::this_thread::sleep_for(std::chrono::milliseconds(o_.race_ms));  // the window the race needs
    auto w = d.prepare("UPDATE seats SET user=?, node=?, token=0, writes=writes+1, booked_at_ms=? WHERE id=?");
    w.bind(1, user).bind(2, static_cast<std::int64_t>(o_.id)).bind(3, now_ms()).bind(4, seat).step();
    return booked(seat, user, 0);
  }

  // The Baton way: lease, check, write fenced by the lease's token, release.
  Reply book_with_lease(const std::string& seat, const std::string& user) {
    baton::AcquireOptions opts;
    opts.ttl = std::chrono::milliseconds(o_.ttl_ms);
    opts.wait = std::chrono::milliseconds(o_.wait_ms);
    auto lease = cluster_->acquire("seat:" + seat, opts);
    if (!lease) {
      const std::string code(baton::errc_name(lease.code()));
      if (lease.code() == baton::Errc::stopped) return error_reply(503, "stopping", "this node is shutting down");
      return error_reply(423, "no_lease", "could not get the lease seat:" + seat + " in time (" + code + "): retry");
    }
    const std::uint64_t token = lease->token();
    Db& d = db();
    if (auto holder = read_holder(d, seat)) {
      lease->release();
      return taken(seat, *holder);
    }
    if (!lease->valid()) {  // checking is good practice; fencing covers a pause after it
      lease->release();
      return error_reply(423, "no_lease", "the lease ran out before the write: retry");
    }
    if (!o_.slow_seat.empty() && seat == o_.slow_seat) {
      // Debug hook (--slow-seat/--slow-ms): a pause between the last check and
      // the write, where a GC pause or a SIGSTOP would hit. booking-load --chaos
      // waits for slow_waiting in /health and SIGSTOPs this process here.
      slow_waiting_.fetch_add(1);
      std::this_thread::sleep_for(std::chrono::milliseconds(o_.slow_ms));
      slow_waiting_.fetch_sub(1);
    }
    // The fenced write: one statement, atomic in the database.
    auto w = d.prepare(
        "UPDATE seats SET user=?, node=?, token=?, fence=?, writes=writes+1, booked_at_ms=?"
        " WHERE id=? AND fence < ?");
    const auto t = static_cast<std::int64_t>(token);
    w.bind(1, user).bind(2, static_cast<std::int64_t>(o_.id)).bind(3, t).bind(4, t).bind(5, now_ms());
    w.bind(6, seat).bind(7, t).step();
    if (d.changes() == 1) {
      lease->release();
      return booked(seat, user, token);
    }
    // Rejected: a holder with a higher token has written this row.
    lease->release();  // not_held if the lease was lost meanwhile: fine
    const std::int64_t fence = record_rejected(d, seat, user, t);
    std::fprintf(stderr, "node %u: stale write rejected: seat %s user %s token %lld < fence %lld\n", o_.id,
                 seat.c_str(), user.c_str(), static_cast<long long>(t), static_cast<long long>(fence));
    std::string holder = read_holder(d, seat).value_or("");
    return {409, dump({{"error", "stale_token"},
                       {"why", "this node's lease ended while it was paused; a newer lease (fence " +
                                   std::to_string(fence) + ") booked the seat, so the write with token " +
                                   std::to_string(t) + " was rejected"},
                       {"seat", seat},
                       {"holder", holder},
                       {"token", t},
                       {"fence", fence},
                       {"node", o_.id}})};
  }

  std::optional<std::string> read_holder(Db& d, const std::string& seat) {
    auto r = d.prepare("SELECT user FROM seats WHERE id=?");
    r.bind(1, seat);
    if (!r.step() || r.is_null(0)) return std::nullopt;
    return r.text(0);
  }

  std::int64_t record_rejected(Db& d, const std::string& seat, const std::string& user, std::int64_t token) {
    d.exec("BEGIN IMMEDIATE");
    try {
      auto ins = d.prepare(
          "INSERT INTO rejected(seat, user, node, token, fence, at_ms)"
          " SELECT id, ?, ?, ?, fence, ? FROM seats WHERE id=?");
      ins.bind(1, user).bind(2, static_cast<std::int64_t>(o_.id)).bind(3, token).bind(4, now_ms()).bind(5, seat).step();
      auto trim = d.prepare("DELETE FROM rejected WHERE n <= (SELECT MAX(n) FROM rejected) - ?");
      trim.bind(1, rejected_log_max).step();
      d.exec("UPDATE counters SET value = value + 1 WHERE name = 'stale_rejected'");
      d.exec("COMMIT");
    } catch (...) {
      d.exec("ROLLBACK");
      throw;
    }
    auto f = d.prepare("SELECT fence FROM seats WHERE id=?");
    f.bind(1, seat);
    return f.step() ? f.i64(0) : 0;
  }

  Reply taken(const std::string& seat, const std::string& holder) {
    return {409, dump({{"error", "taken"},
                       {"why", "seat " + seat + " is already booked"},
                       {"seat", seat},
                       {"holder", holder}})};
  }

  Reply booked(const std::string& seat, const std::string& user, std::uint64_t token) {
    return {201, dump({{"booked", seat}, {"user", user}, {"node", o_.id}, {"token", token}})};
  }

  std::string seats_json() {
    Db& d = db();
    Json seats = Json::array();
    {
      auto r = d.prepare("SELECT id, user, node, token, fence, writes, booked_at_ms FROM seats ORDER BY rowid");
      while (r.step()) {
        Json o;
        o["id"] = r.text(0);
        o["user"] = r.is_null(1) ? Json(nullptr) : Json(r.text(1));
        o["node"] = r.is_null(1) ? Json(nullptr) : Json(r.i64(2));
        o["token"] = r.i64(3);
        o["fence"] = r.i64(4);
        o["writes"] = r.i64(5);
        o["booked_at_ms"] = r.is_null(6) ? Json(nullptr) : Json(r.i64(6));
        seats.push_back(std::move(o));
      }
    }
    Json rejected = Json::array();
    {
      auto r = d.prepare("SELECT seat, user, node, token, fence, at_ms FROM rejected ORDER BY n DESC");
      while (r.step()) {
        rejected.push_back({{"seat", r.text(0)},
                            {"user", r.text(1)},
                            {"node", r.i64(2)},
                            {"token", r.i64(3)},
                            {"fence", r.i64(4)},
                            {"at_ms", r.i64(5)}});
      }
    }
    std::int64_t stale = 0;
    {
      auto r = d.prepare("SELECT value FROM counters WHERE name='stale_rejected'");
      if (r.step()) stale = r.i64(0);
    }
    return dump({{"node", o_.id},
                 {"mode", mode()},
                 {"seats", std::move(seats)},
                 {"stale_writes_rejected", stale},
                 {"rejected", std::move(rejected)}});
  }

  std::string health_json() const {
    return dump({{"node", o_.id},
                 {"client", o_.client},
                 {"pid", ::getpid()},
                 {"mode", mode()},
                 {"slow_seat", o_.slow_seat},
                 {"slow_ms", o_.slow_ms},
                 {"slow_waiting", slow_waiting_.load()},
                 {"ttl_ms", o_.ttl_ms}});
  }

  std::string mode() const { return o_.baseline ? "baseline" : "baton"; }

 private:
  Options o_;
  baton::Cluster* cluster_;
  std::vector<std::string> seats_;
  std::atomic<int> slow_waiting_{0};
};

}  // namespace

int main(int argc, char** argv) {
  Options opts = parse_args(argc, argv);

  // SIGINT/SIGTERM are handled by one thread (sigwait); block them everywhere
  // else, including the threads Baton and httplib start below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  try {
    init_schema(opts.db);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "booking-node: database: %s\n", e.what());
    return 1;
  }

  std::unique_ptr<baton::Cluster> cluster;
  if (!opts.baseline) {
    baton::Config c;
    c.members = opts.members;
    c.cluster_key = baton::ClusterKey{};
    c.cluster_key->fill(0x42);  // a demo key; a real service loads its secret from a file
    c.cluster_id = 0xB00C;
    if (opts.client) {
      // A client of the members (voters run elsewhere, e.g. `batonctl node`
      // with the same key and cluster id): no id, no state; rho and the ttl
      // bounds are the defaults, as the voters' must be.
      c.client = true;
    } else if (opts.state_dir.empty()) {
      c.self = opts.id;
      c.bootstrap = true;  // first start of a diskless demo cluster (restarts need --state-dir)
    } else {
      c.self = opts.id;
      c.state_dir = opts.state_dir;  // survives restarts; the first start needs --bootstrap
      c.bootstrap = opts.bootstrap;
    }
    auto started = baton::Cluster::start(std::move(c));
    if (!started) {
      std::fprintf(stderr, "booking-node: baton: %s (%s)\n", std::string(baton::errc_name(started.code())).c_str(),
                   std::string(started.what()).c_str());
      return 1;
    }
    cluster = std::move(*started);
    opts.id = cluster->self();  // a client's drawn id: what /health, /book and the rows name
  }

  Service service(opts, cluster.get());
  httplib::Server http;
  http.new_task_queue = [] { return new httplib::ThreadPool(16); };
  auto send = [](httplib::Response& res, const Reply& r) {
    res.status = r.status;
    res.set_content(r.body, "application/json");
  };
  auto guard = [&](httplib::Response& res, auto&& fn) {
    try {
      fn();
    } catch (const std::exception& e) {
      send(res, error_reply(500, "internal", e.what()));
    }
  };
  http.Get("/", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(booking::page_html, "text/html; charset=utf-8");
  });
  http.Get("/seats", [&](const httplib::Request&, httplib::Response& res) {
    guard(res, [&] {
      res.set_header("Cache-Control", "no-store");
      res.set_content(service.seats_json(), "application/json");
    });
  });
  http.Get("/health", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(service.health_json(), "application/json");
  });
  http.Post("/book", [&](const httplib::Request& req, httplib::Response& res) {
    guard(res, [&] { send(res, service.book(req.body)); });
  });

  if (!http.bind_to_port("127.0.0.1", opts.http_port)) {
    std::fprintf(stderr, "booking-node: cannot listen on 127.0.0.1:%u\n", opts.http_port);
    return 1;
  }
  std::thread stopper([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    http.stop();
  });
  std::printf("booking-node %u (%s%s) ready: http://127.0.0.1:%u/ pid %d\n", opts.id, service.mode().c_str(),
              opts.client ? ", client" : "", opts.http_port, static_cast<int>(::getpid()));
  std::fflush(stdout);
  http.listen_after_bind();
  // Wake the stopper if listen ended for another reason.
  ::kill(::getpid(), SIGTERM);
  stopper.join();
  if (cluster) cluster->stop();
  return 0;
}
