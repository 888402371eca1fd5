// SPDX-License-Identifier: Apache-2.0
// load_config and apply_env (baton/config.hpp, issue 22): the example file
// loads to the expected Config, every bad file is refused naming the file,
// the line, the key and the value, and the environment overrides the file.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "baton/baton.hpp"

namespace {

using namespace std::chrono_literals;

const char* const env_vars[] = {"BATON_SELF", "BATON_STATE_DIR", "BATON_KEY_FILE"};

// Clears the override variables for one test and restores nothing: the test
// process has no business with them otherwise.
class ConfigFile : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : env_vars) ::unsetenv(v);
  }
  void TearDown() override {
    for (const char* v : env_vars) ::unsetenv(v);
  }
  // A file of `text` in the test's temporary directory.
  std::string write(const std::string& name, const std::string& text) {
    const std::string path = ::testing::TempDir() + "baton_cfg_" + std::to_string(::getpid()) + "_" + name;
    std::ofstream(path) << text;
    return path;
  }
};

const std::string members3 =
    "members = [{ id = 1, host = \"127.0.0.1\", port = 7101 },\n"
    "           { id = 2, host = \"127.0.0.1\", port = 7102 },\n"
    "           { id = 3, host = \"::1\", port = 7103 }]\n";

TEST_F(ConfigFile, ExampleFileLoadsToTheExpectedConfig) {
  auto c = baton::load_config(BATON_SOURCE_DIR "/examples/node.toml");
  ASSERT_TRUE(c) << c.what();
  ASSERT_EQ(c->members.size(), 3u);
  for (std::uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(c->members[i].id, i + 1);
    EXPECT_EQ(c->members[i].host, "127.0.0.1");
    EXPECT_EQ(c->members[i].port, 7101 + i);
  }
  EXPECT_EQ(c->self, 1u);
  EXPECT_FALSE(c->client);
  EXPECT_FALSE(c->cluster_key);  // key_file is commented out
  EXPECT_EQ(c->cluster_id, 7u);
  EXPECT_EQ(c->state_dir, "baton-state-1");
  EXPECT_TRUE(c->bootstrap);
  EXPECT_EQ(c->rho, 0.01);
  EXPECT_EQ(c->ttl_min, 10ms);
  EXPECT_EQ(c->ttl_max, 30s);
  EXPECT_EQ(c->margin, 2ms);
  EXPECT_EQ(c->busy_poll, 0us);
  EXPECT_EQ(c->replicas, 5u);
  const baton::Limits defaults;
  EXPECT_EQ(c->limits.acquires_in_flight, defaults.acquires_in_flight);
  EXPECT_EQ(c->limits.leases_per_voter, defaults.leases_per_voter);
  EXPECT_EQ(c->limits.waiters_per_resource, defaults.waiters_per_resource);
  EXPECT_EQ(c->limits.waiters_per_voter, defaults.waiters_per_voter);
  EXPECT_EQ(c->limits.calls_queued, defaults.calls_queued);
  EXPECT_EQ(c->limits.send_buffers, defaults.send_buffers);
  EXPECT_EQ(c->limits.receive_batch, defaults.receive_batch);
  EXPECT_EQ(c->limits.renew_waiters_per_lease, defaults.renew_waiters_per_lease);
  EXPECT_EQ(c->limits.clients, 1024u);
}

TEST_F(ConfigFile, GoodFilesLoad) {
  const std::string key_path = write("good.key", baton::cluster_key_hex(baton::generate_cluster_key()) + "\n");
  struct Case {
    const char* name;
    std::string text;
    std::function<void(const baton::Config&)> check;
  };
  const baton::Config defaults;
  const Case cases[] = {
      {"only members and self: defaults elsewhere", members3 + "self = 3\n",
       [&](const baton::Config& c) {
         EXPECT_EQ(c.self, 3u);
         EXPECT_EQ(c.members[2].host, "::1");
         EXPECT_FALSE(c.state_dir);
         EXPECT_FALSE(c.bootstrap);
         EXPECT_EQ(c.ttl_max, defaults.ttl_max);
         EXPECT_EQ(c.margin, defaults.margin);
         EXPECT_EQ(c.limits.clients, defaults.limits.clients);
       }},
      {"a client with a key file, [[members]] tables",
       "client = true\nkey_file = \"" + key_path + "\"\ncluster_id = 9223372036854775807\n"
       "[[members]]\nid = 1\nhost = \"10.0.0.1\"\nport = 7101\n",
       [&](const baton::Config& c) {
         EXPECT_TRUE(c.client);
         EXPECT_EQ(c.self, 0u);
         ASSERT_TRUE(c.cluster_key);
         EXPECT_EQ(*c.cluster_key, *baton::load_cluster_key(key_path));
         EXPECT_EQ(c.cluster_id, 9223372036854775807u);
       }},
      {"every duration unit", members3 + "self = 1\nbootstrap = true\nttl_min = \"20000us\"\nttl_max = \"5s\"\n"
                              "margin = \"1500000ns\"\nbusy_poll = \"1ms\"\n",
       [](const baton::Config& c) {
         EXPECT_EQ(c.ttl_min, 20ms);
         EXPECT_EQ(c.ttl_max, 5s);
         EXPECT_EQ(c.margin, 1500us);
         EXPECT_EQ(c.busy_poll, 1ms);
       }},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.name);
    auto c = baton::load_config(write("good.toml", k.text));
    ASSERT_TRUE(c) << c.what();
    k.check(*c);
  }
}

TEST_F(ConfigFile, BadFilesNameTheFileLineKeyAndValue) {
  const std::string ok = members3 + "self = 1\n";
  struct Case {
    std::string text;
    std::vector<std::string> says;  // the error must contain each
    baton::Errc code = baton::Errc::invalid_config;
  };
  const Case cases[] = {
      {"self = 1\nmembers = [", {"is not valid TOML", " 2 | members = ["}},
      {ok + "ttl_maxx = \"10s\"\n", {":5: ttl_maxx: unknown key; expected one of members, self,"}},
      {ok + "[limits]\nclient = 5\n", {":6: limits.client: unknown key; expected one of acquires_in_flight,"}},
      {"members = [{ id = 1, host = \"127.0.0.1\", port = 7101, weight = 2 }]\nself = 1\n",
       {":1: members[0].weight: unknown key; expected one of id, host, port"}},
      {ok + "self = 2\n", {"is not valid TOML"}},  // toml11 refuses a key given twice
      {"self = 1\n", {"members: missing"}},
      {members3, {"self: missing", "BATON_SELF"}},
      {"members = []\nself = 1\n", {":1: members: array; expected a non-empty array"}},
      {"members = \"1=127.0.0.1:7101\"\nself = 1\n", {":1: members: string \"1=127.0.0.1:7101\"; expected"}},
      {"members = [{ id = 1, host = \"127.0.0.1\" }]\nself = 1\n", {":1: members[0]: 'port' missing"}},
      {"members = [{ id = 0, host = \"127.0.0.1\", port = 7101 }]\n", {"members[0].id: integer 0; expected an integer in 1..2147483647"}},
      {"members = [{ id = 1, host = \"db.example\", port = 7101 }]\n",
       {"members[0].host: string \"db.example\"; expected a numeric IPv4 or IPv6 address"}},
      {"members = [{ id = 1, host = \"127.0.0.1\", port = 70000 }]\n", {"members[0].port: integer 70000; expected an integer in 1..65535"}},
      {"members = [{ id = 1, host = \"127.0.0.1\", port = 1 },\n { id = 1, host = \"127.0.0.1\", port = 2 }]\n",
       {":2: members[1].id: integer 1 given twice"}},
      {ok + "self = \"1\"\n", {"is not valid TOML"}},
      {"self = \"one\"\n" + members3, {":1: self: string \"one\"; expected an integer in 1..2147483647"}},
      {ok + "client = 1\n", {":5: client: integer 1; expected true or false"}},
      {ok + "rho = 1\n", {":5: rho: integer 1; expected a float in (0, 0.1]"}},
      {ok + "rho = 0.5\n", {":5: rho: 0.5 outside (0, 0.1]"}},  // validate()'s check, with the line
      {ok + "ttl_max = 60\n", {":5: ttl_max: integer 60; expected a string of a whole number and a unit"}},
      {ok + "ttl_max = \"60 s\"\n", {":5: ttl_max: string \"60 s\"; expected a string of a whole number"}},
      {ok + "ttl_max = \"1min\"\n", {"ttl_max: string \"1min\""}},
      {ok + "margin = \"-2ms\"\n", {"margin: string \"-2ms\""}},
      {ok + "ttl_max = \"10000000000s\"\n", {"ttl_max: string \"10000000000s\"; expected a duration below 2^63 ns"}},
      {ok + "busy_poll = \"11ms\"\n", {":5: busy_poll:", "outside [0, 10ms]"}},
      {ok + "cluster_id = -1\n", {":5: cluster_id: integer -1; expected an integer in 0.."}},
      {ok + "state_dir = \"\"\n", {":5: state_dir: string \"\"; expected a directory path"}},
      {ok + "replicas = 4\n", {":5: replicas:"}},
      {ok + "[limits]\nclients = 0\n", {":6: limits.clients: integer 0; expected an integer in 1.."}},
      {ok + "limits = 5\n", {":5: limits: integer 5; expected a table"}},
      {ok + "key_file = \"/nonexistent/cluster.key\"\n", {":5: key_file: cannot read key file '/nonexistent/cluster.key'"},
       baton::Errc::io_error},
      {"client = true\nself = 1\n" + members3, {":2: self: 1 set on a client"}},
      {"members = [{ id = 1, host = \"127.0.0.1\", port = 7101 }]\nself = 2\n", {":2: self: 2 is not among the members"}},
  };
  for (const Case& k : cases) {
    const std::string path = write("bad.toml", k.text);
    auto c = baton::load_config(path);
    ASSERT_FALSE(c) << k.text;
    const std::string what(c.what());
    EXPECT_EQ(c.code(), k.code) << k.text << "\n" << what;
    EXPECT_NE(what.find(path), std::string::npos) << k.text << "\n" << what;
    for (const std::string& s : k.says) EXPECT_NE(what.find(s), std::string::npos) << k.text << "\n" << what;
  }
}

TEST_F(ConfigFile, BadKeyFileContentIsAConfigError) {
  const std::string key = write("short.key", "abcd\n");
  auto c = baton::load_config(write("k.toml", members3 + "self = 1\nkey_file = \"" + key + "\"\n"));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.code(), baton::Errc::invalid_config);
  EXPECT_NE(std::string(c.what()).find(":5: key_file: key file '" + key + "'"), std::string::npos) << c.what();
}

TEST_F(ConfigFile, AMissingFileIsAnIoErrorNamingIt) {
  const std::string path = ::testing::TempDir() + "baton_cfg_no_such_file.toml";
  auto c = baton::load_config(path);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.code(), baton::Errc::io_error);
  EXPECT_NE(std::string(c.what()).find("cannot read config file '" + path + "'"), std::string::npos) << c.what();
  EXPECT_NE(std::string(c.what()).find("No such file"), std::string::npos) << c.what();
}

TEST_F(ConfigFile, TheEnvironmentOverridesTheFile) {
  const baton::ClusterKey key = baton::generate_cluster_key();
  const std::string key_path = write("env.key", baton::cluster_key_hex(key));
  // The file's key_file is not read when BATON_KEY_FILE is set.
  const std::string path = write("env.toml", members3 + "self = 1\nstate_dir = \"/from/file\"\n"
                                                        "key_file = \"/nonexistent/file.key\"\n");
  ::setenv("BATON_SELF", "2", 1);
  ::setenv("BATON_STATE_DIR", "/from/env", 1);
  ::setenv("BATON_KEY_FILE", key_path.c_str(), 1);
  auto c = baton::load_config(path);
  ASSERT_TRUE(c) << c.what();
  EXPECT_EQ(c->self, 2u);
  EXPECT_EQ(c->state_dir, "/from/env");
  ASSERT_TRUE(c->cluster_key);
  EXPECT_EQ(*c->cluster_key, key);

  // An empty variable is unset: the file's value stays.
  ::setenv("BATON_STATE_DIR", "", 1);
  ::unsetenv("BATON_KEY_FILE");
  auto e = baton::load_config(write("env2.toml", members3 + "self = 1\nstate_dir = \"/from/file\"\n"));
  ASSERT_TRUE(e) << e.what();
  EXPECT_EQ(e->state_dir, "/from/file");
  EXPECT_EQ(e->self, 2u);

  // The environment supplies self where the file has none; a fault of an
  // overridden value names the variable.
  ::setenv("BATON_SELF", "9", 1);
  auto f = baton::load_config(write("env3.toml", members3));
  ASSERT_FALSE(f);
  EXPECT_NE(std::string(f.what()).find("self: 9 is not among the members (environment: BATON_SELF=9)"),
            std::string::npos)
      << f.what();
}

TEST_F(ConfigFile, ApplyEnvRefusesBadValuesAndChangesNothing) {
  struct Case {
    const char* var;
    const char* value;
    const char* says;
    baton::Errc code = baton::Errc::invalid_config;
  };
  const Case cases[] = {
      {"BATON_SELF", "x", "BATON_SELF: 'x'; expected a member id in 1..2147483647"},
      {"BATON_SELF", "0", "BATON_SELF: '0'"},
      {"BATON_SELF", "2147483648", "BATON_SELF: '2147483648'"},
      {"BATON_SELF", "1 ", "BATON_SELF: '1 '"},
      {"BATON_KEY_FILE", "/nonexistent/k", "BATON_KEY_FILE: cannot read key file '/nonexistent/k'",
       baton::Errc::io_error},
  };
  for (const Case& k : cases) {
    ::setenv("BATON_STATE_DIR", "/env/state", 1);  // valid, but must not be half-applied
    ::setenv(k.var, k.value, 1);
    baton::Config c;
    c.self = 1;
    auto r = baton::apply_env(c);
    ASSERT_FALSE(r) << k.var << "=" << k.value;
    EXPECT_EQ(r.code(), k.code) << r.what();
    EXPECT_NE(std::string(r.what()).find(k.says), std::string::npos) << r.what();
    EXPECT_EQ(c.self, 1u);
    EXPECT_FALSE(c.state_dir);
    ::unsetenv(k.var);
  }
  baton::Config c;
  ::setenv("BATON_SELF", "4", 1);
  ASSERT_TRUE(baton::apply_env(c));
  EXPECT_EQ(c.self, 4u);
  EXPECT_EQ(c.state_dir, "/env/state");
}

}  // namespace
