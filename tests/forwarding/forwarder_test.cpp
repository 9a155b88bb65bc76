// The MQTT forwarder through its Publisher seam, with a scripted client and a real SQLite
// outbox: order, the in-flight window, acknowledgements, reconnects, failing marks, the payload.
#include <doctest/doctest.h>
#include <sqlite3.h>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <deque>
#include <map>

#include "gw/drivers/profile.hpp"
#include "gw/forwarding/mqtt_forwarder.hpp"
#include "gw/store/store.hpp"
#include "site_config.hpp"
#include "temp_dir.hpp"

using namespace std::chrono;
namespace json = boost::json;

namespace {

constexpr const char* MA = "871685900000000035";
constexpr const char* MB = "871685900000000028";
const gw::SysS k_t0{seconds{1'795'435'200}};  // 2026-11-23T12:00:00Z

/// A broker that does what the test says: acknowledges at once or on demand, refuses
/// connections, drops the connection.
struct ScriptedBroker final : gw::Publisher {
    struct Message {
        std::string topic, payload;
        bool retained;
    };
    std::vector<Message> published;
    std::deque<Done> unacked;
    bool auto_ack = true;
    int refuse = 0;  ///< connections still to refuse
    int connects = 0;
    Lost lost;

    void connect(const std::string&, Done done) override {
        ++connects;
        if (refuse > 0) {
            --refuse;
            done(false, 3, "the broker is unavailable");
        } else {
            done(true, 0, "");
        }
    }
    void publish(const std::string& topic, std::string payload, bool retained, Done done) override {
        published.push_back({topic, std::move(payload), retained});
        if (auto_ack)
            done(true, 0, "");
        else
            unacked.push_back(std::move(done));
    }
    void disconnect(const std::string&) override {}
    void on_lost(Lost l) override { lost = std::move(l); }
    std::map<std::string, gw::Publisher::Message> subscriptions;
    void subscribe(const std::string& topic, gw::Publisher::Message m, Done done) override {
        subscriptions[topic] = std::move(m);
        done(true, 0, "");
    }
    /// A message from the broker on a subscribed topic.
    void deliver(const std::string& topic, const std::string& payload) {
        subscriptions.at(topic)(topic, payload);
    }

    void ack_one() {
        auto d = std::move(unacked.front());
        unacked.pop_front();
        d(true, 0, "");
    }
    /// The interval messages only (not the status).
    std::vector<json::object> intervals() const {
        std::vector<json::object> out;
        for (const auto& m : published)
            if (m.topic.ends_with("/interval")) out.push_back(json::parse(m.payload).as_object());
        return out;
    }
};

gw::Config config(int max_inflight = 16) {
    gw::test::SiteConfig site;
    site.id = "site-0001";
    site.db = "/unused.db";
    site.mqtt_uri = "tcp://127.0.0.1:1883";
    site.mqtt_extra = "reconnect_max_s = 1\nmax_inflight = " + std::to_string(max_inflight) + "\n";
    site.links = {gw::test::LinkSpec{"lan", "tcp", 502}};
    site.meters = {gw::test::MeterSpec{MA, "overdrachtspunt", "lan", 1},
                   gw::test::MeterSpec{MB, "bruto_productie", "lan", 2}};
    auto res = gw::parse_config(site.toml(), "forwarder.toml",
                                [](std::string_view n) { return &gw::find_profile(n)->map; });
    for (const auto& e : res.errors) MESSAGE(e.str());
    REQUIRE(res.config.has_value());
    return *res.config;
}

gw::IntervalRecord interval(const char* meter, int i) {
    gw::IntervalRecord r{*gw::Ean18::parse(meter), k_t0 + minutes{5 * i}};
    r.p_w = -1000.0 * i;
    r.q_var = 10.0;
    r.u1_v = r.u2_v = r.u3_v = 230.0;
    r.samples = 300;
    r.coverage = 1.0;
    return r;
}

/// A forwarder over a real store and a scripted broker, run on a local io_context.
struct Rig {
    gw::test::TempDir dir;
    gw::Config cfg;
    std::unique_ptr<gw::Store> store;
    boost::asio::io_context io;
    gw::ManualClock clock{gw::SysMs{k_t0.time_since_epoch()}};
    ScriptedBroker* broker;
    std::unique_ptr<gw::MqttForwarder> fwd;

    explicit Rig(int max_inflight = 16) : cfg(config(max_inflight)) {
        store = std::move(gw::Store::open(dir.file("gw.db")).value());
        auto b = std::make_unique<ScriptedBroker>();
        broker = b.get();
        fwd = std::make_unique<gw::MqttForwarder>(cfg, *store, io, clock, std::move(b));
    }
    void commit(const gw::IntervalRecord& r) {
        REQUIRE(*store->commit_interval(r, nullptr, true, {}, gw::SysMs{}));
    }
    std::int64_t pending() { return store->stats()->pending_forward; }
    /// Runs the io_context until `pred` holds, at most `timeout`.
    template <class P>
    bool run_until(P pred, milliseconds timeout = milliseconds{5000}) {
        const auto deadline = steady_clock::now() + timeout;
        while (!pred()) {
            if (steady_clock::now() > deadline) return false;
            io.run_one_for(milliseconds{10});
            if (io.stopped()) io.restart();
        }
        return true;
    }
};

}  // namespace

TEST_CASE(
    "every committed interval is published once, oldest first, and marked forwarded on its "
    "acknowledgement") {
    Rig rig;
    for (int i = 1; i <= 20; ++i) {
        rig.commit(interval(MA, i));
        rig.commit(interval(MB, i));
    }
    REQUIRE(rig.fwd->start().ok());
    REQUIRE(rig.run_until([&] { return rig.pending() == 0; }));
    const auto sent = rig.broker->intervals();
    REQUIRE(sent.size() == 40);
    for (std::size_t i = 1; i < sent.size(); ++i)
        CHECK(sent[i - 1].at("tijd").as_string() <= sent[i].at("tijd").as_string());
    CHECK(rig.broker->published.front().topic ==
          "meters/site-0001/status");  // online first, retained
    CHECK(rig.broker->published.front().payload == "online");
    CHECK(rig.broker->published.front().retained);
    CHECK(rig.fwd->publishes() == 40);
    CHECK(rig.fwd->state() == "connected");
}

TEST_CASE("at most max_inflight messages wait for their acknowledgement") {
    Rig rig(4);
    rig.broker->auto_ack = false;
    for (int i = 1; i <= 10; ++i) rig.commit(interval(MA, i));
    REQUIRE(rig.fwd->start().ok());
    REQUIRE(rig.run_until([&] { return rig.broker->intervals().size() == 4; }));
    rig.run_until([] { return false; }, milliseconds{100});
    CHECK(rig.broker->intervals().size() == 4);  // the window is full
    rig.broker->ack_one();                       // the online status
    rig.broker->ack_one();                       // the manifest
    rig.broker->ack_one();                       // the first interval
    REQUIRE(rig.run_until([&] { return rig.broker->intervals().size() == 5; }));
    REQUIRE(rig.run_until([&] { return rig.pending() == 9; }));
}

TEST_CASE(
    "what was not acknowledged goes out again after a reconnect, what was acknowledged does not") {
    Rig rig;
    rig.broker->auto_ack = false;
    for (int i = 1; i <= 3; ++i) rig.commit(interval(MA, i));
    REQUIRE(rig.fwd->start().ok());
    REQUIRE(rig.run_until([&] { return rig.broker->intervals().size() == 3; }));
    rig.broker->ack_one();  // status
    rig.broker->ack_one();  // manifest
    rig.broker->ack_one();  // interval 1
    REQUIRE(rig.run_until([&] { return rig.pending() == 2; }));
    rig.broker->unacked.clear();  // the connection drops with two in flight
    rig.broker->auto_ack = true;
    rig.broker->lost("connection lost");
    REQUIRE(rig.run_until([&] { return rig.pending() == 0; }));
    const auto sent = rig.broker->intervals();
    REQUIRE(sent.size() == 5);  // 3, then 2 and 3 again
    CHECK(sent[3].at("id") == sent[1].at("id"));
    CHECK(sent[4].at("id") == sent[2].at("id"));
    CHECK(rig.broker->connects == 2);
}

TEST_CASE(
    "a refused connection is retried with a capped backoff and the backlog goes out once it is "
    "taken") {
    Rig rig;
    rig.broker->refuse = 3;
    for (int i = 1; i <= 5; ++i) rig.commit(interval(MA, i));
    REQUIRE(rig.fwd->start().ok());
    REQUIRE(rig.run_until([&] {
        return rig.fwd->state() == "disconnected" &&
               rig.fwd->last_error() == "the broker is unavailable";
    }));
    // 0.5 s, 1 s, then the 1 s cap (mqtt.reconnect_max_s).
    const auto t0 = steady_clock::now();
    REQUIRE(rig.run_until([&] { return rig.pending() == 0; }));
    CHECK(steady_clock::now() - t0 < seconds{4});
    CHECK(rig.broker->connects == 4);
    CHECK(rig.broker->intervals().size() == 5);
}

TEST_CASE(
    "acknowledgements the store cannot record are retried, and nothing is published twice "
    "meanwhile") {
    Rig rig;
    for (int i = 1; i <= 3; ++i) rig.commit(interval(MA, i));
    sqlite3* h = nullptr;
    REQUIRE(sqlite3_open(rig.store->path().c_str(), &h) == SQLITE_OK);
    REQUIRE(sqlite3_exec(h,
                         "CREATE TRIGGER no_marks BEFORE UPDATE OF forward_pending ON intervals "
                         "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;",
                         nullptr, nullptr, nullptr) == SQLITE_OK);
    REQUIRE(rig.fwd->start().ok());
    REQUIRE(rig.run_until([&] { return rig.broker->intervals().size() == 3; }));
    REQUIRE(rig.run_until([&] { return rig.fwd->mark_failures() >= 1; }));
    rig.commit(interval(MA, 4));  // a new interval while the marks fail
    rig.fwd->kick();
    REQUIRE(
        rig.run_until([&] { return rig.fwd->mark_failures() >= 3; }));  // retried, with a backoff
    CHECK(rig.broker->intervals().size() == 3);  // nothing again, and nothing new while marks fail
    CHECK(rig.pending() == 4);
    REQUIRE(sqlite3_exec(h, "DROP TRIGGER no_marks;", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(h);
    REQUIRE(rig.run_until([&] { return rig.pending() == 0; }));
    CHECK(rig.broker->intervals().size() == 4);
}

TEST_CASE("the payload and topic follow the contract, and numbers are never in exponent notation") {
    const auto cfg = config();
    gw::IntervalRecord r{*gw::Ean18::parse(MA), gw::SysS{seconds{1'795'435'200 - 3600 + 300 * 11}}};
    r.interval_s = 300;
    r.p_w = -1'234'400;
    r.q_var = 12'000;
    r.u1_v = 231.35;
    r.u2_v = 230.9;
    r.u3_v = 231.0;
    r.samples = 298;
    r.coverage = 0.9933;
    CHECK(gw::interval_topic(cfg, cfg.meters[0]) ==
          "meters/site-0001/871685900000000011/871685900000000035/interval");
    CHECK(gw::status_topic(cfg) == "meters/site-0001/status");
    CHECK(
        gw::interval_payload(cfg, cfg.meters[0], r) ==
        R"({"id":"871685900000000035/2026-11-23T11:55:00Z","gateway_id":"site-0001","klant_ean":"871685900000000011",)"
        R"("meter_ean":"871685900000000035","meter_type":"overdrachtspunt","tijd":"2026-11-23T11:55:00Z","interval_s":300,)"
        R"("actief_vermogen_kw":-1234,"blind_vermogen_kvar":12,"spanning_l1_v":231.4,"spanning_l2_v":230.9,)"
        R"("spanning_l3_v":231.0,"kwaliteit":"gemeten","monsters":298,"dekking":0.99})");
    r.q_var.reset();
    r.coverage = 1.0;
    const auto j = json::parse(gw::interval_payload(cfg, cfg.meters[0], r)).as_object();
    CHECK(j.at("blind_vermogen_kvar").is_null());
    CHECK(gw::interval_payload(cfg, cfg.meters[0], r).find("\"dekking\":1.00}") !=
          std::string::npos);
}

TEST_CASE("the manifest names the gateway and its meters, retained, on every connect") {
    Rig rig;
    rig.fwd->set_version("9.8.7");
    REQUIRE(rig.fwd->start().ok());
    REQUIRE(rig.run_until([&] { return rig.broker->published.size() >= 2; }));
    const auto& m = rig.broker->published[1];
    CHECK(m.topic == "meters/site-0001/manifest");
    CHECK(m.retained);
    const json::object o = json::parse(m.payload).as_object();
    CHECK(o.at("gateway_id") == "site-0001");
    CHECK(o.at("interval_s") == 5);
    CHECK(o.at("version") == "9.8.7");
    const auto& meters = o.at("meters").as_array();
    REQUIRE(meters.size() == 2);
    CHECK(meters[0].at("meter_ean") == MA);
    CHECK(meters[0].at("klant_ean") == gw::test::k_klant);
    CHECK(meters[0].at("meter_type") == "overdrachtspunt");
    CHECK(meters[1].at("meter_type") == "bruto_productie");
    CHECK(rig.broker->subscriptions.count("meters/site-0001/cmd/backfill") == 1);
}

TEST_CASE("a backfill request publishes the stored intervals again, oldest first, same payload") {
    Rig rig;
    for (int i = 1; i <= 6; ++i) {
        rig.commit(interval(MA, i));
        rig.commit(interval(MB, i));
    }
    REQUIRE(rig.fwd->start().ok());
    REQUIRE(rig.run_until([&] { return rig.pending() == 0; }));
    const auto first = rig.broker->intervals();
    REQUIRE(first.size() == 12);
    // (12:10, 12:25]: intervals 3, 4 and 5 of meter A.
    rig.broker->deliver("meters/site-0001/cmd/backfill",
                        std::string(R"({"meter_ean":")") + MA +
                            R"(","from":"2026-11-23T12:10:00Z","to":"2026-11-23T12:25:00Z"})");
    REQUIRE(rig.run_until([&] { return rig.broker->intervals().size() == 15; }));
    REQUIRE(rig.run_until([&] { return rig.pending() == 0; }));
    const auto again = rig.broker->intervals();
    std::vector<std::string> ids;
    for (std::size_t i = 12; i < again.size(); ++i) {
        ids.emplace_back(again[i].at("id").as_string());
        // The same message as the first time, byte for byte in its values.
        bool found = false;
        for (const auto& f : first)
            if (f.at("id") == again[i].at("id"))
                found = json::serialize(f) == json::serialize(again[i]);
        CHECK(found);
    }
    CHECK(ids == std::vector<std::string>{std::string(MA) + "/2026-11-23T12:15:00Z",
                                          std::string(MA) + "/2026-11-23T12:20:00Z",
                                          std::string(MA) + "/2026-11-23T12:25:00Z"});
    CHECK(rig.fwd->backfills() == 1);

    // Requests that are wrong are refused, logged, and change nothing.
    for (
        const std::string& bad :
        {std::string("not json"),
         std::string(
             R"({"meter_ean":"871685900000000042","from":"2026-11-23T12:00:00Z","to":"2026-11-23T13:00:00Z"})"),
         std::string(R"({"meter_ean":")") + MA +
             R"(","from":"2026-11-23T13:00:00Z","to":"2026-11-23T12:00:00Z"})",
         std::string(R"({"meter_ean":")") + MA +
             R"(","from":"2026-11-23T12:00:00","to":"2026-11-23T13:00:00Z"})",
         std::string(R"({"meter_ean":")") + MA +
             R"(","from":"2026-11-23T12:00:00Z","to":"2026-11-23T13:00:00Z","x":1})",
         std::string(R"({"meter_ean":42})")})
        rig.broker->deliver("meters/site-0001/cmd/backfill", bad);
    rig.run_until([] { return false; }, milliseconds{100});
    CHECK(rig.fwd->backfills_refused() == 6);
    CHECK(rig.broker->intervals().size() == 15);
    CHECK(rig.pending() == 0);
}
