#include <doctest/doctest.h>

#include "core/error.hpp"
#include "io/config.hpp"

using namespace qtzflow;

TEST_CASE("config: defaults, overrides and the effective text round trip") {
  const auto c = io::parse_config("[schrodinger]\n");
  CHECK(c.grid.n == std::vector<std::size_t>{128, 128});
  CHECK(c.grid.lower == std::vector<double>{-2.5, -2.5});
  CHECK(c.schedule.kind == "constant");
  CHECK(c.schrodinger.scheme == "strang");
  CHECK(c.initial.center == std::vector<double>{0.0, 0.0});
  CHECK(c.initial.width == std::vector<double>{0.5, 0.5});
  CHECK(c.output.every == 100);

  const auto o = io::parse_config("[schrodinger]\n[objective]\nname = \"harmonic\"\na = [1, 4]\n",
                                  {"grid.n=[32,16]", "schedule.T=0.25", "objective.name=harmonic", "schrodinger.scheme=yoshida4"});
  CHECK(o.grid.n == std::vector<std::size_t>{32, 16});
  CHECK(o.schedule.T == 0.25);
  CHECK(o.objective.params.at("a") == std::vector<double>{1, 4});
  CHECK(o.schrodinger.scheme == "yoshida4");
  const auto again = io::parse_config(o.text);
  CHECK(again.text == o.text);
  CHECK(again.grid.n == o.grid.n);

  const auto d = io::parse_config(io::default_config_text());
  CHECK(d.output.path == "qtzflow_default.h5");
  CHECK(d.initial.relax_time == 2.0);
}

TEST_CASE("config: errors name the key path and the accepted range") {
  auto key_of = [](const std::string& text, std::vector<std::string> sets = {}) {
    try {
      io::parse_config(text, sets);
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
