// SPDX-License-Identifier: Apache-2.0
// A tiny, strict JSON reader and writer: just enough for the booking example
// (request bodies, the nodes' answers, /seats). Not a general library: no
// \u escapes beyond ASCII, numbers as double, depth limited, no duplicates
// checks. Standard library only.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace booking::json {

struct Value {
  enum class Type { null, boolean, number, string, array, object };
  Type type = Type::null;
  bool b = false;
  double n = 0;
  std::string s;
  std::vector<Value> a;
  std::vector<std::string> keys;  // object: keys[i] names values[i]
  std::vector<Value> values;      // (two vectors: a pair<string, Value> would need Value complete)

  const Value* get(std::string_view key) const;
  std::string str(std::string_view key, std::string fallback = {}) const;
  double num(std::string_view key, double fallback = 0) const;
};

inline const Value* Value::get(std::string_view key) const {
  if (type != Type::object) return nullptr;
  for (std::size_t i = 0; i < keys.size(); ++i)
    if (keys[i] == key) return &values[i];
  return nullptr;
}
inline std::string Value::str(std::string_view key, std::string fallback) const {
  const Value* v = get(key);
  return v && v->type == Type::string ? v->s : fallback;
}
inline double Value::num(std::string_view key, double fallback) const {
  const Value* v = get(key);
  return v && v->type == Type::number ? v->n : fallback;
}

class Parser {
 public:
  explicit Parser(std::string_view text) : t_(text) {}

  // Parses the whole text as one value. On failure returns false and sets error.
  bool parse(Value& out, std::string& error) {
    bool ok = value(out, 0);
    if (ok) {
      ws();
      if (i_ != t_.size()) ok = fail("trailing characters");
    }
    if (!ok) error = err_ + " at byte " + std::to_string(i_);
    return ok;
  }

 private:
  bool fail(const char* why) {
    if (err_.empty()) err_ = why;
    return false;
  }
  void ws() {
    while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\t' || t_[i_] == '\n' || t_[i_] == '\r')) ++i_;
  }
  bool lit(std::string_view w) {
    if (t_.substr(i_, w.size()) != w) return fail("bad literal");
    i_ += w.size();
    return true;
  }
  bool value(Value& v, int depth) {
    if (depth > 32) return fail("too deep");
    ws();
    if (i_ >= t_.size()) return fail("unexpected end");
    const char c = t_[i_];
    if (c == '{') return object(v, depth);
    if (c == '[') return array(v, depth);
    if (c == '"') {
      v.type = Value::Type::string;
      return string(v.s);
    }
    if (c == 't') {
      v.type = Value::Type::boolean;
      v.b = true;
      return lit("true");
    }
    if (c == 'f') {
      v.type = Value::Type::boolean;
      return lit("false");
    }
    if (c == 'n') return lit("null");
    if (c == '-' || (c >= '0' && c <= '9')) return number(v);
    return fail("unexpected character");
  }
  bool number(Value& v) {
    const std::size_t start = i_;
    if (t_[i_] == '-') ++i_;
    auto digits = [&] {
      const std::size_t s = i_;
      while (i_ < t_.size() && t_[i_] >= '0' && t_[i_] <= '9') ++i_;
      return i_ > s;
    };
    if (!digits()) return fail("bad number");
    if (i_ < t_.size() && t_[i_] == '.') {
      ++i_;
      if (!digits()) return fail("bad number");
    }
    if (i_ < t_.size() && (t_[i_] == 'e' || t_[i_] == 'E')) {
      ++i_;
      if (i_ < t_.size() && (t_[i_] == '+' || t_[i_] == '-')) ++i_;
      if (!digits()) return fail("bad number");
    }
    v.type = Value::Type::number;
    v.n = std::strtod(std::string(t_.substr(start, i_ - start)).c_str(), nullptr);
    return true;
  }
  bool string(std::string& out) {
    ++i_;  // opening quote
    while (i_ < t_.size()) {
      const char c = t_[i_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return fail("control character in string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= t_.size()) break;
      const char e = t_[i_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          if (i_ + 4 > t_.size()) return fail("bad \\u escape");
          unsigned code = 0;
          for (int k = 0; k < 4; ++k) {
            const char h = t_[i_++];
            code <<= 4;
            if (h >= '0' && h <= '9') code |= static_cast<unsigned>(h - '0');
            else if (h >= 'a' && h <= 'f') code |= static_cast<unsigned>(h - 'a' + 10);
            else if (h >= 'A' && h <= 'F') code |= static_cast<unsigned>(h - 'A' + 10);
            else return fail("bad \\u escape");
          }
          if (code >= 0x80) return fail("non-ASCII \\u escape not supported");
          out += static_cast<char>(code);
          break;
        }
        default: return fail("bad escape");
      }
    }
    return fail("unterminated string");
  }
  bool array(Value& v, int depth) {
    ++i_;
    v.type = Value::Type::array;
    ws();
    if (i_ < t_.size() && t_[i_] == ']') {
      ++i_;
      return true;
    }
    for (;;) {
      v.a.emplace_back();
      if (!value(v.a.back(), depth + 1)) return false;
      ws();
      if (i_ >= t_.size()) return fail("unterminated array");
      if (t_[i_] == ',') { ++i_; continue; }
      if (t_[i_] == ']') { ++i_; return true; }
      return fail("expected , or ]");
    }
  }
  bool object(Value& v, int depth) {
    ++i_;
    v.type = Value::Type::object;
    ws();
    if (i_ < t_.size() && t_[i_] == '}') {
      ++i_;
      return true;
    }
    for (;;) {
      ws();
      if (i_ >= t_.size() || t_[i_] != '"') return fail("expected a key");
      std::string key;
      if (!string(key)) return false;
      ws();
      if (i_ >= t_.size() || t_[i_] != ':') return fail("expected :");
      ++i_;
      Value item;
      if (!value(item, depth + 1)) return false;
      v.keys.push_back(std::move(key));
      v.values.push_back(std::move(item));
      ws();
      if (i_ >= t_.size()) return fail("unterminated object");
      if (t_[i_] == ',') { ++i_; continue; }
      if (t_[i_] == '}') { ++i_; return true; }
      return fail("expected , or }");
    }
  }

  std::string_view t_;
  std::size_t i_ = 0;
  std::string err_;
};

inline bool parse(std::string_view text, Value& out, std::string& error) {
  out = Value{};  // replaces whatever `out` held
  return Parser(text).parse(out, error);
}

// A JSON string literal (with quotes) for `s`.
inline std::string quote(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

// Builds one JSON object, field by field, in order.
class Object {
 public:
  Object& raw(std::string_view key, std::string_view json) {
    sep(key);
    out_ += json;
    return *this;
  }
  Object& str(std::string_view key, std::string_view v) { return raw(key, quote(v)); }
  Object& num(std::string_view key, std::int64_t v) { return raw(key, std::to_string(v)); }
  Object& unum(std::string_view key, std::uint64_t v) { return raw(key, std::to_string(v)); }
  Object& dbl(std::string_view key, double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", v);
    return raw(key, buf);
  }
  Object& boolean(std::string_view key, bool v) { return raw(key, v ? "true" : "false"); }
  Object& null(std::string_view key) { return raw(key, "null"); }
  std::string done() const { return out_ + "}"; }

 private:
  void sep(std::string_view key) {
    out_ += out_.size() > 1 ? "," : "";
    out_ += quote(key);
    out_ += ':';
  }
  std::string out_ = "{";
};

}  // namespace booking::json
