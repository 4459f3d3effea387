#include <doctest/doctest.h>

#include "core/error.hpp"
#include "scenario/config.hpp"

using namespace qtzflow;

TEST_CASE("config: defaults, overrides and the effective text round trip") {
  const auto c = scenario::parse_config("[schrodinger]\n");
  CHECK(c.grid.n == std::vector<std::size_t>{128, 128});
  CHECK(c.grid.lower == std::vector<double>{-2.5, -2.5});
  CHECK(c.schedule.kind == potentials::Schedule::Kind::constant);
  REQUIRE(std::holds_alternative<scenario::SchrodingerConfig>(c.engine));
  CHECK(std::get<scenario::SchrodingerConfig>(c.engine).scheme == solver::SplitScheme::strang);
  CHECK(c.initial.center == std::vector<double>{0.0, 0.0});
  CHECK(c.initial.width == std::vector<double>{0.5, 0.5});
  CHECK(c.output.every == 100);

  const auto o = scenario::parse_config("[schrodinger]\n[objective]\nname = \"harmonic\"\na = [1, 4]\n",
                                        {"grid.n=[32,16]", "schedule.T=0.25", "objective.name=harmonic", "schrodinger.scheme=yoshida4"});
  CHECK(o.grid.n == std::vector<std::size_t>{32, 16});
  CHECK(o.schedule.T == 0.25);
  CHECK(o.objective.params.at("a") == std::vector<double>{1, 4});
  CHECK(std::get<scenario::SchrodingerConfig>(o.engine).scheme == solver::SplitScheme::yoshida4);
  const auto again = scenario::parse_config(o.text);
  CHECK(again.text == o.text);
  CHECK(again.grid.n == o.grid.n);

  const auto fp = scenario::parse_config("[fokker_planck]\nscheme = \"crank_nicolson\"\n[grid]\nboundary = \"reflecting\"\n");
  REQUIRE(std::holds_alternative<scenario::FokkerPlanckConfig>(fp.engine));
  CHECK(std::get<scenario::FokkerPlanckConfig>(fp.engine).scheme == solver::FpScheme::crank_nicolson);
  CHECK(fp.grid.boundary == grids::Boundary::reflecting);
  CHECK(scenario::parse_config(fp.text).text == fp.text);
  const auto pa = scenario::parse_config("[particles]\nalgorithm = \"qtz-dither\"\n[initial]\nkind = \"uniform\"\n");
  REQUIRE(std::holds_alternative<scenario::ParticlesConfig>(pa.engine));
  CHECK(std::get<scenario::ParticlesConfig>(pa.engine).algorithm == particles::ParticleDynamics::qtz_dither);
  CHECK(pa.initial.kind == scenario::InitialKind::uniform);
  CHECK(pa.text.find("algorithm = \"qtz-dither\"") != std::string::npos);

  const auto d = scenario::parse_config(scenario::default_config_text());
  CHECK(d.output.path == "qtzflow_default.h5");
  CHECK(d.initial.relax_time == 2.0);
}

TEST_CASE("config: errors name the key path and the accepted range") {
  auto key_of = [](const std::string& text, std::vector<std::string> sets = {}) {
    try {
      scenario::parse_config(text, sets);
    } catch (const core::InvalidArgument& e) {
      return e.key();
    }
    return std::string("(no error)");
  };
  const std::string ok = "[schrodinger]\n";
  CHECK(key_of(ok + "[grid]\nn = [64]\nlower = [0, 0]\n") == "grid.lower");
  CHECK(key_of(ok + "[grid]\nn = [2, 3, 4, 5]\n") == "grid.n");
  CHECK(key_of(ok + "[schedule]\nT = \"hot\"\n") == "schedule.T");
  CHECK(key_of(ok + "[output]\nevery = 1.5\n") == "output.every");
  CHECK(key_of(ok + "[output]\nextra = 1\n") == "output.extra");
  CHECK(key_of(ok + "[objective]\nc = \"x\"\n") == "objective.c");
  CHECK(key_of("[grid]\n") == "schrodinger");
  CHECK(key_of(ok, {"schrodinger.t_end=0.0001", "schrodinger.dt=0.001"}) == "schrodinger.t_end");
  CHECK(key_of("x = 1\n" + ok) == "x");  // a top-level key is an unknown section
  CHECK(key_of("[schrodinger\n") == "config");
}

TEST_CASE("particles.clock: dithered QTZ in Fokker-Planck time by default, the raw clock on request, bad pairs named") {
  const std::string base = "[grid]\nn = [16]\nlower = [-2.0]\nupper = [2.0]\nboundary = \"reflecting\"\n[particles]\n";
  using particles::QtzClock;
  const auto dither = std::get<scenario::ParticlesConfig>(scenario::parse_config(base + "algorithm = \"qtz-dither\"\n").engine);
  CHECK(dither.clock == QtzClock::fokker_planck);
  CHECK(dither.moves_per_dt == 4);
  const auto local = std::get<scenario::ParticlesConfig>(scenario::parse_config(base + "algorithm = \"qtz-local\"\n").engine);
  CHECK(local.clock == QtzClock::moves);
  const auto raw = std::get<scenario::ParticlesConfig>(scenario::parse_config(base + "algorithm = \"qtz-dither\"\nclock = \"moves\"\n").engine);
  CHECK(raw.clock == QtzClock::moves);
  CHECK_THROWS_WITH_AS(scenario::parse_config(base + "algorithm = \"qtz-local\"\nclock = \"fokker_planck\"\n"),
                       doctest::Contains("plain quantizer has no Fokker-Planck limit"), core::InvalidArgument);
  CHECK_THROWS_WITH_AS(scenario::parse_config(base + "algorithm = \"langevin\"\nclock = \"moves\"\n"), doctest::Contains("particles.clock"),
                       core::InvalidArgument);
  CHECK_THROWS_WITH_AS(scenario::parse_config(base + "algorithm = \"qtz-dither\"\nmoves_per_dt = 0\n"), doctest::Contains("particles.moves_per_dt"),
                       core::InvalidArgument);
  // the canonical text carries both keys, and reads back the same
  const auto c = scenario::parse_config(base + "algorithm = \"qtz-dither\"\nmoves_per_dt = 8\n");
  CHECK(c.text.find("clock = \"fokker_planck\"\nmoves_per_dt = 8") != std::string::npos);
  CHECK(scenario::parse_config(c.text).text == c.text);
}

TEST_CASE("objective.name = expression: formula, parameters, domain and minima read, written back, checked") {
  const std::string base = "[schrodinger]\n[grid]\nn = [32, 32]\n";
  const auto c = scenario::parse_config(base +
                                        "[objective]\nname = \"expression\"\nf = \"(x^2-1)^2 + a*x + y^2 \\\"\"\na = 0.3\n"
                                        "domain = [[-2, 2], [-1, 1]]\nminima = [[-1.0, 0.0], [1.0, 0.0]]\n");
  CHECK(c.objective.is_expression());
  CHECK(c.objective.formula == "(x^2-1)^2 + a*x + y^2 \"");
  CHECK(c.objective.params.at("a") == std::vector<double>{0.3});
  CHECK(c.objective.lower == std::vector<double>{-2, -1});
  CHECK(c.objective.upper == std::vector<double>{2, 1});
  REQUIRE(c.objective.minima.size() == 2);
  CHECK(scenario::parse_config(c.text).text == c.text);  // the effective text round-trips, quotes escaped
  // one [lower, upper] pair for every axis
  const auto one = scenario::parse_config(base + "[objective]\nname = \"expression\"\nf = \"x*y\"\ndomain = [-3, 3]\n");
  CHECK(one.objective.lower == std::vector<double>{-3, -3});
  // without a domain the grid's box is used when the objective is made
  const auto g = scenario::parse_config(base + "[objective]\nname = \"expression\"\nf = \"x*y\"\n");
  const auto f = scenario::make_objective(g.objective, 2, g.grid.lower, g.grid.upper);
  CHECK(f->lower() == g.grid.lower);
  CHECK(f->value(std::vector<double>{2, 3}) == 6);
  auto fails = [&](const std::string& obj, const char* key) {
    CAPTURE(obj);
    CHECK_THROWS_WITH_AS(scenario::parse_config(base + "[objective]\n" + obj), doctest::Contains(key), core::InvalidArgument);
  };
  fails("name = \"expression\"\n", "objective.f");
  fails("name = \"expression\"\nf = 3\n", "objective.f");
  fails("name = \"expression\"\nf = \"x\"\ndomain = [[0, 1]]\n", "objective.domain");
  fails("name = \"expression\"\nf = \"x\"\ndomain = [[0, \"a\"], [0, 1]]\n", "objective.domain");
  fails("name = \"expression\"\nf = \"x\"\nminima = [[0]]\n", "objective.minima");
  fails("name = \"expression\"\nf = \"x\"\nminima = [0, 0]\n", "objective.minima");
  fails("name = \"double_well\"\nf = \"x\"\n", "objective.f");
  fails("name = \"double_well\"\ndomain = [0, 1]\n", "objective.domain");
}

TEST_CASE("config: a key the chosen kind, engine or clock leaves unused is refused naming it and why, and stored texts drop it") {
  auto refusal = [](const std::string& text) {
    try {
      scenario::parse_config(text);
    } catch (const core::InvalidArgument& e) {
      return e.key() + " | " + e.what();
    }
    return std::string("(accepted)");
  };
  const std::string s = "[schrodinger]\n", f = "[fokker_planck]\n[grid]\nboundary = \"reflecting\"\n";
  const std::string p = "[grid]\nboundary = \"reflecting\"\n[particles]\n";
  // each line: a configuration, the key refused, a word of the reason
  const std::tuple<std::string, std::string, std::string> cases[] = {
      {s + "[schedule]\nkind = \"logarithmic\"\nT = 0.5\n", "schedule.T", "logarithmic"},  // it ran at c/ln 2 = 1.44 without a word
      {s + "[schedule]\nkind = \"constant\"\ngamma = 0.9\n", "schedule.gamma", "geometric"},
      {s + "[schedule]\nkind = \"geometric\"\nc = 2\n", "schedule.c", "logarithmic"},
      {s + "[schedule]\nkind = \"constant\"\neta = 2\n", "schedule.eta", "paper"},
      {s + "[schedule]\nC_q = 3\n", "schedule.C_q", "moves clock"},
      {s + "[schedule]\nkind = \"paper\"\nT = 1\n", "schedule.T", "constant"},
      {p + "algorithm = \"qtz-dither\"\ndelta = 0.2\n", "particles.delta", "fokker_planck clock"},
      {p + "algorithm = \"langevin\"\ndelta = 0.2\n", "particles.delta", "langevin"},
      {p + "algorithm = \"qtz-local\"\nmoves_per_dt = 8\n", "particles.moves_per_dt", "qtz-dither"},
      {p + "algorithm = \"langevin\"\n[schedule]\nC_q = 3\n", "schedule.C_q", "moves clock"},
      {s + "[initial]\nkind = \"uniform\"\ncenter = [0, 0]\n", "initial.center", "gaussian"},
      {f + "[initial]\nrelax_time = 0\n", "initial.relax_time", "schrodinger"},
      {s + "absorber_strength = 2\n", "schrodinger.absorber_strength", "absorber_width"},
      {f + "[output]\nparticle_positions = true\n", "output.particle_positions", "particles"},
  };
  for (const auto& [text, key, why] : cases) {
    CAPTURE(text);
    const auto r = refusal(text);
    CHECK(r.rfind(key + " | ", 0) == 0);
    CHECK(r.find(why) != std::string::npos);
  }
  // the keys each choice uses are accepted, and the only ones written
  const auto paper = scenario::parse_config(p + "algorithm = \"qtz-local\"\ndelta = 0.2\n[schedule]\nkind = \"paper\"\nC_q = 3\neta = 2\ntau = 4\n");
  CHECK(paper.text.find("C_q = 3\neta = 2\ntau = 4\n") != std::string::npos);
  CHECK(paper.text.find("delta = 0.2") != std::string::npos);
  CHECK(paper.text.find("T = ") == std::string::npos);
  CHECK(paper.text.find("moves_per_dt") == std::string::npos);
  const auto moves = scenario::parse_config(p + "algorithm = \"qtz-local\"\n[schedule]\nC_q = 3\n");  // C_q of Q_p = C_q/(2T)
  CHECK(moves.schedule.C_q == 3);
  CHECK(scenario::parse_config(moves.text).text == moves.text);
  // a text stored by an earlier version, every key written: a restart reads it, dropping what is unused
  const std::string old = s + "[schedule]\nkind = \"logarithmic\"\nT = 0.5\nc = 2\ngamma = 0.99\nC_q = 2\neta = 1\ntau = 1\n"
                              "[initial]\nkind = \"uniform\"\ncenter = [0, 0]\nwidth = [0.5, 0.5]\nrelax_time = 0\n";
  CHECK_THROWS_AS(scenario::parse_config(old), core::InvalidArgument);
  const auto stored = scenario::parse_config(old, {}, "stored", scenario::UnusedKeys::drop);
  CHECK(stored.schedule.c == 2);
  CHECK(stored.text == scenario::parse_config(s + "[schedule]\nkind = \"logarithmic\"\nc = 2\n[initial]\nkind = \"uniform\"\nrelax_time = 0\n").text);
}

TEST_CASE("config: --set schedule.kind=X replaces the schedule table, as objective.name replaces the objective table") {
  const std::string base = "[schrodinger]\n[schedule]\nT = 0.3\n";
  const auto log = scenario::parse_config(base, {"schedule.c=2", "schedule.kind=logarithmic"});  // any order
  CHECK(log.schedule.kind == potentials::Schedule::Kind::logarithmic);
  CHECK(log.schedule.c == 2);
  // restating the kind (absent: the default, constant) keeps the table
  CHECK(scenario::parse_config(base, {"schedule.kind=constant"}).schedule.T == 0.3);
  CHECK(scenario::parse_config(base + "kind = \"constant\"\n", {"schedule.kind=constant"}).schedule.T == 0.3);
}
