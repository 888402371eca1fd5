// SPDX-License-Identifier: Apache-2.0
#include "profile.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace baton::sim {

namespace {

constexpr std::int64_t us_ns = 1'000;
constexpr std::int64_t ms_ns = 1'000'000;
constexpr std::int64_t s_ns = 1'000'000'000;
constexpr std::int64_t pct_ppm = 10'000;  // 1 % in ppm

Param range(std::int64_t lo, std::int64_t hi) { return Param{Range{lo, hi}, {}, std::nullopt}; }
Param one(std::int64_t v) { return range(v, v); }
Param pick(std::vector<std::int64_t> choices) { return Param{Range{}, std::move(choices), std::nullopt}; }

// Exactly what baton-sim drew before profiles existed (sim_cluster.cpp at
// f0e11a9): keep it so, or documented seeds stop replaying.
SimProfile default_profile() {
  SimProfile p;
  p.name = "default";
  p.members = one(5);
  p.loss_ppm = range(0, 10 * pct_ppm);
  p.dup_ppm = range(0, 5 * pct_ppm);
  p.delay_min_ns = one(50 * us_ns);
  p.delay_max_ns = range(300 * us_ns, 3 * ms_ns);
  p.tail_ppm = range(0, 3 * pct_ppm);
  p.tail_max_ns = one(50 * ms_ns);
  p.far_tail_ppm = range(0, 3 * pct_ppm / 10);
  p.far_tail_max_ns = one(2500 * ms_ns);  // beyond the default ttl_max of 1 s: datagrams from the past
  p.reorder_ppm = one(0);
  p.fault_gap_ns = range(20 * ms_ns, 300 * ms_ns);
  p.pause_share_pct = one(25);
  p.crash_share_pct = one(22);
  p.disk_sync_ns = range(100 * us_ns, 20 * ms_ns);
  p.disks = pick({1, 0});
  p.rho_ppm = pick({10000, 50000, 100000});
  p.vary = false;
  p.ttl_max_ns = one(1 * s_ns);
  p.margin_ns = one(2 * ms_ns);
  p.replicas = one(5);
  return p;
}

// The mix that found the renewal hole of issue 19: many duplicates and long
// delays, so that a RELEASE sent long ago arrives after the lease id it names
// was granted again. Members and configuration vary too.
SimProfile harsh_profile() {
  SimProfile p = default_profile();
  p.name = "harsh";
  p.members = range(3, 9);
  p.dup_ppm = range(10 * pct_ppm, 30 * pct_ppm);
  p.tail_ppm = range(5 * pct_ppm, 20 * pct_ppm);
  p.far_tail_ppm = range(5 * pct_ppm / 10, 25 * pct_ppm / 10);
  // Half of the seeds at the upper limit of rho (limits::rho_ppm_max).
  p.rho_ppm = pick({10000, 50000, 100000, 100000});
  p.vary = true;
  p.ttl_max_ns = range(100 * ms_ns, 3 * s_ns);
  p.margin_ns = range(10 * us_ns, 4 * ms_ns);
  p.replicas = one(0);
  return p;
}

// Reordering as the norm: wide delays, and most datagrams overtake the one
// sent before them on their link while it is still in flight.
SimProfile reorder_profile() {
  SimProfile p = harsh_profile();
  p.name = "reorder";
  p.loss_ppm = range(0, 5 * pct_ppm);
  p.dup_ppm = range(5 * pct_ppm, 20 * pct_ppm);
  p.delay_max_ns = range(2 * ms_ns, 20 * ms_ns);
  p.reorder_ppm = range(50 * pct_ppm, 90 * pct_ppm);
  p.tail_ppm = range(0, 3 * pct_ppm);
  p.far_tail_ppm = range(0, 3 * pct_ppm / 10);
  p.rho_ppm = pick({10000, 50000, 100000});
  return p;
}

// "2.5" with `scale` per unit -> 2.5 * scale, if exact and in range.
std::optional<std::int64_t> parse_scaled(std::string_view s, std::int64_t scale) {
  if (s.empty() || s.size() > 24) return std::nullopt;
  const std::size_t dot = s.find('.');
  const std::string_view whole = s.substr(0, dot);
  const std::string_view frac = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
  if (whole.empty() || (dot != std::string_view::npos && frac.empty())) return std::nullopt;
  const auto digits = [](std::string_view d) { return std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; }); };
  if (!digits(whole) || !digits(frac)) return std::nullopt;
  std::int64_t w = 0;
  if (std::from_chars(whole.data(), whole.data() + whole.size(), w).ec != std::errc{}) return std::nullopt;
  if (w > INT64_MAX / scale) return std::nullopt;
  std::int64_t v = w * scale;
  std::int64_t unit = scale;
  for (char c : frac) {
    if (unit % 10 != 0) return std::nullopt;  // finer than the unit can say
    unit /= 10;
    v += (c - '0') * unit;
  }
  return v;
}

bool ends_with(std::string_view s, std::string_view suffix, std::string_view& stem) {
  if (s.size() <= suffix.size() || s.substr(s.size() - suffix.size()) != suffix) return false;
  stem = s.substr(0, s.size() - suffix.size());
  return true;
}

enum class Kind : std::uint8_t { rate, duration, count, share, yesno };

// One profile flag: its parameter, its kind, the values it accepts, its help.
struct Flag {
  std::string_view name;          // "--dup"
  Kind kind;
  Param SimProfile::*param;       // null for --pause-len (an optional range)
  std::int64_t min, max;          // accepted values, inclusive
  std::string_view help;
};

const std::vector<Flag>& flags() {
  static const std::vector<Flag> f = {
      {"--members", Kind::count, &SimProfile::members, 1, 64, "cluster size (N or LO..HI, drawn per seed)"},
      {"--clients", Kind::count, &SimProfile::clients, 0, 32,
       "client processes, not members, that come and go (N or LO..HI, drawn per seed; default 0)"},
      {"--client-ids", Kind::count, &SimProfile::client_ids, 0, 1000000,
       "client ids drawn from this many values, shared ids allowed (0, the default: all 2^31-1, unique)"},
      {"--cfg-bumps", Kind::count, &SimProfile::cfg_bumps, 0, 1000,
       "configuration records (same voters, newer id, maybe a join floor) installed at random members "
       "during the faulty phase (N or LO..HI, drawn per seed; default 0)"},
      {"--reconfigs", Kind::count, &SimProfile::reconfigs, 0, 1000,
       "reconfigurations of the voters (add, remove, replace, any subset) driven by random members during "
       "the faulty phase, racing, crashing and paused like everything else, plus one when it ends that must "
       "commit (N or LO..HI, drawn per seed; default 0; forces disks and replicas >= members)"},
      {"--replicas", Kind::count, &SimProfile::replicas, 1, 63, "voters per resource, odd (default profile: 5; varied: 3..7)"},
      {"--loss", Kind::rate, &SimProfile::loss_ppm, 0, 100 * pct_ppm, "share of datagrams lost"},
      {"--dup", Kind::rate, &SimProfile::dup_ppm, 0, 100 * pct_ppm, "share of datagrams delivered twice"},
      {"--delay-min", Kind::duration, &SimProfile::delay_min_ns, 1 * us_ns, 10 * s_ns, "usual one-way delay, lower end"},
      {"--delay-max", Kind::duration, &SimProfile::delay_max_ns, 1 * us_ns, 10 * s_ns, "usual one-way delay, upper end"},
      {"--tail", Kind::rate, &SimProfile::tail_ppm, 0, 100 * pct_ppm, "share of datagrams delayed up to --tail-max"},
      {"--tail-max", Kind::duration, &SimProfile::tail_max_ns, 1 * us_ns, 60 * s_ns, "longest tail delay"},
      {"--far-tail", Kind::rate, &SimProfile::far_tail_ppm, 0, 100 * pct_ppm, "share of datagrams delayed up to --far-tail-max"},
      {"--far-tail-max", Kind::duration, &SimProfile::far_tail_max_ns, 1 * us_ns, 60 * s_ns, "longest far-tail delay"},
      {"--reorder", Kind::rate, &SimProfile::reorder_ppm, 0, 100 * pct_ppm,
       "share of datagrams that overtake the one sent before them on the link"},
      {"--fault-gap", Kind::duration, &SimProfile::fault_gap_ns, 1 * ms_ns, 60 * s_ns,
       "mean gap between faults (partitions, clogs, pauses, crashes)"},
      {"--pauses", Kind::share, &SimProfile::pause_share_pct, 0, 100, "whole percent of faults that pause a member"},
      {"--pause-len", Kind::duration, nullptr, 1 * us_ns, 60 * s_ns,
       "pause length, uniform (default: 1-50ms half the time, 0.5-3s, 3-10s)"},
      {"--crashes", Kind::share, &SimProfile::crash_share_pct, 0, 100,
       "whole percent of faults that crash members (10/22 of them a majority, with disks)"},
      {"--disk-sync", Kind::duration, &SimProfile::disk_sync_ns, 1 * us_ns, 10 * s_ns, "time a reservation sync takes"},
      {"--disks", Kind::yesno, &SimProfile::disks, 0, 1, "members have state directories (yes) or recover from peers (no)"},
      {"--rho", Kind::rate, &SimProfile::rho_ppm, 1, 10 * pct_ppm, "clock-rate bound of the true clocks, up to 10%"},
      {"--ttl-max", Kind::duration, &SimProfile::ttl_max_ns, 50 * ms_ns, 60 * s_ns,
       "members' ttl_max (first lives), the longest ttl clients ask for"},
      {"--margin", Kind::duration, &SimProfile::margin_ns, 1 * us_ns, 4 * ms_ns, "NodeConfig::margin"},
  };
  return f;
}

std::string format_value(Kind k, std::int64_t v) {
  char buf[48];
  switch (k) {
    case Kind::rate:
      if (v % pct_ppm == 0) {
        std::snprintf(buf, sizeof buf, "%lld%%", static_cast<long long>(v / pct_ppm));
      } else if (v % 100 == 0) {
        std::snprintf(buf, sizeof buf, "%g%%", static_cast<double>(v) / pct_ppm);
      } else {
        std::snprintf(buf, sizeof buf, "%lldppm", static_cast<long long>(v));
      }
      return buf;
    case Kind::duration:
      if (v % s_ns == 0 || v >= s_ns) {
        std::snprintf(buf, sizeof buf, "%gs", static_cast<double>(v) / s_ns);
      } else if (v % ms_ns == 0 || v >= ms_ns) {
        std::snprintf(buf, sizeof buf, "%gms", static_cast<double>(v) / ms_ns);
      } else if (v % us_ns == 0 || v >= us_ns) {
        std::snprintf(buf, sizeof buf, "%gus", static_cast<double>(v) / us_ns);
      } else {
        std::snprintf(buf, sizeof buf, "%lldns", static_cast<long long>(v));
      }
      return buf;
    case Kind::share: return std::to_string(v) + "%";
    case Kind::yesno: return v ? "yes" : "no";
    case Kind::count: return std::to_string(v);
  }
  return "?";
}

std::string format_range(Kind k, const Range& r) {
  return r.single() ? format_value(k, r.lo) : format_value(k, r.lo) + ".." + format_value(k, r.hi);
}

std::string format_param(Kind k, const Param& p) {
  if (p.flag) return format_range(k, *p.flag);
  if (p.choices.empty()) return format_range(k, p.profile);
  std::string s = "{";
  for (std::size_t i = 0; i < p.choices.size(); ++i) s += (i ? "," : "") + format_value(k, p.choices[i]);
  return s + "}";
}

std::string_view placeholder(Kind k) {
  switch (k) {
    case Kind::rate: return "RATE";
    case Kind::duration: return "DUR";
    case Kind::count: return "N";
    case Kind::share: return "PCT";
    case Kind::yesno: return "yes|no";
  }
  return "?";
}

std::optional<std::int64_t> parse_value(Kind k, std::string_view s) {
  switch (k) {
    case Kind::rate: return parse_rate_ppm(s);
    case Kind::duration: return parse_duration_ns(s);
    case Kind::count: return parse_count(s);
    case Kind::share: {
      std::string_view stem;
      if (!ends_with(s, "%", stem)) return std::nullopt;
      return parse_count(stem);
    }
    case Kind::yesno:
      if (s == "yes") return 1;
      if (s == "no") return 0;
      return std::nullopt;
  }
  return std::nullopt;
}

std::string_view expected(Kind k) {
  switch (k) {
    case Kind::rate: return "a rate such as 5%, 0.5% or 2500ppm, or a range such as 10%..30%";
    case Kind::duration: return "a duration such as 50us, 3ms or 2.5s, or a range such as 1ms..3s";
    case Kind::count: return "a whole number such as 5, or a range such as 3..9";
    case Kind::share: return "a whole percentage such as 25%, or a range such as 10%..40%";
    case Kind::yesno: return "yes or no";
  }
  return "?";
}

// "A" or "A..B" of kind `k` within [f.min, f.max]; "" or the error.
std::string parse_range(const Flag& f, std::string_view value, Range& out) {
  const std::string bad = std::string(f.name) + ": '" + std::string(value) + "' ";
  const std::size_t dots = value.find("..");
  const std::string_view a = value.substr(0, dots);
  const std::string_view b = dots == std::string_view::npos ? a : value.substr(dots + 2);
  const auto lo = parse_value(f.kind, a);
  const auto hi = parse_value(f.kind, b);
  if (!lo || !hi || (f.kind == Kind::yesno && dots != std::string_view::npos)) {
    return bad + "is not " + std::string(expected(f.kind));
  }
  if (*lo > *hi) return bad + "is an empty range (the lower end is above the upper)";
  if (*lo < f.min || *hi > f.max) {
    return bad + "is outside " + format_value(f.kind, f.min) + ".." + format_value(f.kind, f.max);
  }
  out = Range{*lo, *hi};
  return "";
}

}  // namespace

std::int64_t Param::max() const {
  if (flag) return flag->hi;
  if (choices.empty()) return profile.hi;
  return *std::max_element(choices.begin(), choices.end());
}

std::int64_t Param::min() const {
  if (flag) return flag->lo;
  if (choices.empty()) return profile.lo;
  return *std::min_element(choices.begin(), choices.end());
}

std::int64_t draw(core::Rng& rng, const Param& p) {
  const auto from = [&rng](const Range& r) {
    return r.lo + static_cast<std::int64_t>(rng.uniform(static_cast<std::uint64_t>(r.hi - r.lo)));
  };
  std::int64_t v = p.choices.empty() ? from(p.profile) : p.choices[rng.uniform(p.choices.size() - 1)];
  if (p.flag) v = from(*p.flag);
  return v;
}

std::optional<SimProfile> profile_by_name(std::string_view name) {
  if (name == "default") return default_profile();
  if (name == "harsh") return harsh_profile();
  if (name == "reorder") return reorder_profile();
  return std::nullopt;
}

bool is_plain_default(const SimProfile& p) {
  if (p.name != "default" || p.vary || p.pause_ns) return false;
  // --members is not a change of the world: default seeds ran at any count.
  return std::none_of(flags().begin(), flags().end(), [&p](const Flag& f) {
    return f.param != nullptr && f.param != &SimProfile::members && (p.*f.param).flag.has_value();
  });
}

std::string profile_names() { return "default, harsh, reorder"; }

std::string apply_profile_flag(SimProfile& p, std::string_view flag, std::string_view value, bool& known) {
  known = false;
  if (flag == "--vary" || flag == "--no-vary") {
    known = true;
    p.vary = flag == "--vary";
    return "";
  }
  for (const Flag& f : flags()) {
    if (f.name != flag) continue;
    known = true;
    Range r;
    if (std::string err = parse_range(f, value, r); !err.empty()) return err;
    if (f.param == nullptr) {
      p.pause_ns = r;
    } else {
      (p.*f.param).flag = r;
    }
    return "";
  }
  return "";
}

std::vector<std::string_view> profile_flag_names() {
  std::vector<std::string_view> names;
  for (const Flag& f : flags()) names.push_back(f.name);
  return names;
}

std::string check_profile(const SimProfile& p) {
  const auto name = [](std::string_view n) { return std::string(n); };
  if (p.delay_min_ns.max() > p.delay_max_ns.min()) {
    return name("--delay-min/--delay-max: the usual delay's lower end (up to ") +
           format_value(Kind::duration, p.delay_min_ns.max()) + ") may exceed its upper end (from " +
           format_value(Kind::duration, p.delay_max_ns.min()) + ")";
  }
  if (p.pause_share_pct.max() + p.crash_share_pct.max() > 100) {
    return "--pauses/--crashes: pauses (up to " + std::to_string(p.pause_share_pct.max()) + "%) and crashes (up to " +
           std::to_string(p.crash_share_pct.max()) + "%) add up to more than 100% of faults";
  }
  if (p.replicas.flag && (!p.replicas.flag->single() || p.replicas.flag->lo % 2 == 0)) {
    return "--replicas: '" + format_range(Kind::count, *p.replicas.flag) + "' is not one odd number";
  }
  return "";
}

std::string profile_help() {
  std::string s =
      "Fault and configuration flags (each replaces what the profile draws; a value fixes it in every seed,\n"
      "LO..HI draws it per seed):\n";
  char line[256];
  for (const Flag& f : flags()) {
    const std::string usage = std::string(f.name) + " " + std::string(placeholder(f.kind));
    std::snprintf(line, sizeof line, "  %-21s %s\n", usage.c_str(), std::string(f.help).c_str());
    s += line;
  }
  s += "  --vary                draw ttl_max, margin and replicas per seed, change ttl_max and rho at restarts\n"
       "                        (members with disks), crash or pause a waiting member in the healed phase\n"
       "  --no-vary             keep the configuration fixed (the default profile's behaviour)\n"
       "RATE: a percentage (5%, 0.5%) or ppm (2500ppm); DUR: a number with ns, us, ms or s; PCT: a whole\n"
       "percentage; each may be a range LO..HI (--dup 10%..30%), drawn per seed.\n\n"
       "Profiles (--profile NAME; what each seed draws):\n";
  for (const char* n : {"default", "harsh", "reorder"}) s += "  " + describe(*profile_by_name(n)) + "\n";
  return s;
}

std::string describe(const SimProfile& p) {
  std::string s = p.name + ": members " + format_param(Kind::count, p.members) +
                  (p.clients.max() > 0 ? ", clients " + format_param(Kind::count, p.clients) : std::string()) +
                  (p.cfg_bumps.max() > 0 ? ", cfg bumps " + format_param(Kind::count, p.cfg_bumps) : std::string()) +
                  (p.reconfigs.max() > 0 ? ", reconfigs " + format_param(Kind::count, p.reconfigs) : std::string()) +
                  ", loss " + format_param(Kind::rate, p.loss_ppm) + ", dup " + format_param(Kind::rate, p.dup_ppm) +
                  ", delay " + format_param(Kind::duration, p.delay_min_ns) + " to " +
                  format_param(Kind::duration, p.delay_max_ns) + ", tail " + format_param(Kind::rate, p.tail_ppm) +
                  " up to " + format_param(Kind::duration, p.tail_max_ns) + ", far tail " +
                  format_param(Kind::rate, p.far_tail_ppm) + " up to " + format_param(Kind::duration, p.far_tail_max_ns) +
                  ", reorder " + format_param(Kind::rate, p.reorder_ppm) + ", fault gap " +
                  format_param(Kind::duration, p.fault_gap_ns) + ", pauses " +
                  format_param(Kind::share, p.pause_share_pct) + " of faults" +
                  (p.pause_ns ? " (" + format_range(Kind::duration, *p.pause_ns) + ")" : std::string()) +
                  ", crashes " + format_param(Kind::share, p.crash_share_pct) + ", disk sync " +
                  format_param(Kind::duration, p.disk_sync_ns) + ", disks " + format_param(Kind::yesno, p.disks) +
                  ", rho " + format_param(Kind::rate, p.rho_ppm);
  if (!p.vary) return s + ", ttl_max " + format_param(Kind::duration, p.ttl_max_ns) + ", fixed configuration";
  const bool odd_draw = !p.replicas.flag && p.replicas.choices.empty() && p.replicas.profile.lo == 0;
  return s + "; varied: ttl_max " + format_param(Kind::duration, p.ttl_max_ns) + ", margin " +
         format_param(Kind::duration, p.margin_ns) + ", replicas " +
         (odd_draw ? std::string("odd 3..min(members,7)") : format_param(Kind::count, p.replicas)) +
         ", restart configs, healed-phase waiter faults";
}

namespace {
// A count drawn from a stream of its own (salted by `salt`), so that the
// world's draws do not depend on it; no draw when it is a single value.
std::uint32_t count_for_seed(const Param& param, std::uint64_t seed, std::uint64_t salt) {
  if (!param.flag && param.choices.empty() && param.profile.single()) {
    return static_cast<std::uint32_t>(param.profile.lo);
  }
  if (param.flag && param.flag->single()) return static_cast<std::uint32_t>(param.flag->lo);
  core::Rng rng(seed ^ salt);
  return static_cast<std::uint32_t>(draw(rng, param));
}
}  // namespace

std::uint32_t members_for_seed(const SimProfile& p, std::uint64_t seed) {
  return count_for_seed(p.members, seed, 0x6d656d62657273ULL);  // "members"
}

std::uint32_t clients_for_seed(const SimProfile& p, std::uint64_t seed) {
  return count_for_seed(p.clients, seed, 0x636c69656e7473ULL);  // "clients"
}

std::uint32_t cfg_bumps_for_seed(const SimProfile& p, std::uint64_t seed) {
  return count_for_seed(p.cfg_bumps, seed, 0x6366675f62756d70ULL);  // "cfg_bump"
}

std::uint32_t reconfigs_for_seed(const SimProfile& p, std::uint64_t seed) {
  return count_for_seed(p.reconfigs, seed, 0x7265636f6e666967ULL);  // "reconfig"
}

std::optional<std::int64_t> parse_rate_ppm(std::string_view s) {
  std::string_view stem;
  if (ends_with(s, "ppm", stem)) return parse_scaled(stem, 1);
  if (ends_with(s, "%", stem)) return parse_scaled(stem, pct_ppm);
  return std::nullopt;
}

std::optional<std::int64_t> parse_duration_ns(std::string_view s) {
  std::string_view stem;
  if (ends_with(s, "ns", stem)) return parse_scaled(stem, 1);
  if (ends_with(s, "us", stem)) return parse_scaled(stem, us_ns);
  if (ends_with(s, "ms", stem)) return parse_scaled(stem, ms_ns);
  if (ends_with(s, "s", stem)) return parse_scaled(stem, s_ns);
  return std::nullopt;
}

std::optional<std::int64_t> parse_count(std::string_view s) {
  if (s.find('.') != std::string_view::npos) return std::nullopt;
  return parse_scaled(s, 1);
}

}  // namespace baton::sim
