"""qtzflow.torch and qtzflow.ml: the quantized gradient optimizers against an independent NumPy
re-implementation (bit for bit, float32), their schedule, their ablations, a seeded training
run, and the IDX reader's refusals.  Skipped without torch (Debian: python3-torch)."""
import gzip
import math
import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from qtzflow import ml  # noqa: E402
from qtzflow import torch as q  # noqa: E402
from qtzflow.torch import QtAdam, QtAdamW, QtSGD  # noqa: E402

F = np.float32


def reference_step(w, g, m, v, step, rule, quantizer="floor", push=True, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                   epochs=15, steps_per_epoch=600, noise=None):
    """The update of particles/quantized_gradient.hpp written from its equations in NumPy
    float32 (w, m, v updated in place).  The schedule is recomputed here in Python floats."""
    t_e = step / steps_per_epoch
    qp = 2.0 ** 19 * 2.0 ** math.floor(math.log(math.log(t_e + 2)) / math.log(2))
    s = 0.5 * (1 + math.tanh(-2.0 * (t_e - epochs / 2))) if push else 0.0
    if rule == "sgd":
        h = -(F(lr) * g)
    else:
        b1, b2 = F(betas[0]), F(betas[1])
        if rule == "adamw":
            w -= (F(lr) * F(weight_decay)) * w
        m[:] = b1 * m + (F(1) - b1) * g
        v[:] = b2 * v + (F(1) - b2) * (g * g)
        c1 = F(lr / (1 - float(betas[0]) ** step))
        c2 = F(math.sqrt(1 - float(betas[1]) ** step))
        h = -(c1 * m) / (np.sqrt(v) / c2 + F(eps))
    norm = F(math.sqrt(float(np.cumsum(h.astype(np.float64) ** 2)[-1])))  # a sequential sum, in memory order
    r = (F(lr * s) * h) / norm if (push and norm > 0) else np.zeros_like(h)
    u = h + r
    qpf = F(qp)
    if quantizer == "floor":
        dw = np.floor(qpf * u) / qpf
    elif quantizer == "round":
        dw = np.round(qpf * u) / qpf  # NumPy rounds half to even
    else:
        dw = u + F(1 / (qp * math.sqrt(12.0))) * noise
    w += dw


def small_problem(seed=0):
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(8, 6), torch.nn.Tanh(), torch.nn.Linear(6, 3))
    x = torch.randn(32, 8)
    y = torch.randint(0, 3, (32,))
    return net, x, y


CASES = [
    (QtSGD, "sgd", {"lr": 0.05}, {}),  # a large step, so that the grid is crossed often
    (QtAdam, "adam", {}, {}),
    (QtAdamW, "adamw", {}, {"weight_decay": 0.01}),
    (QtAdam, "adam", {"quantizer": "round"}, {"quantizer": "round"}),
    (QtAdam, "adam", {"push": False}, {"push": False}),
    (QtAdam, "adam", {"quantizer": "gaussian", "seed": 11}, {"quantizer": "gaussian"}),
    (QtSGD, "sgd", {"lr": 0.05, "steps_per_epoch": 4, "epochs": 4}, {"steps_per_epoch": 4, "epochs": 4}),  # Q_p switches within 20 steps
]


@pytest.mark.parametrize("cls,rule,kw,ref_kw", CASES)
def test_each_optimizer_equals_a_numpy_reimplementation_bit_for_bit(cls, rule, kw, ref_kw):
    net, x, y = small_problem()
    opt = cls(net.parameters(), **kw)
    ref_kw = dict(ref_kw)
    ref_kw.setdefault("lr", kw.get("lr", 1e-3))
    params = list(net.parameters())
    ws = [p.detach().numpy().ravel().copy() for p in params]
    ms = [np.zeros_like(w) for w in ws]
    vs = [np.zeros_like(w) for w in ws]
    for step in range(1, 21):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        grads = [p.grad.detach().numpy().ravel().copy() for p in params]
        opt.step()
        for k, (w, g, m, v) in enumerate(zip(ws, grads, ms, vs)):
            noise = q.gradient_noise(kw.get("seed", 0), k, step, w.size) if ref_kw.get("quantizer") == "gaussian" else None
            reference_step(w, g, m, v, step, rule, noise=noise, **ref_kw)
        for k, (p, w) in enumerate(zip(params, ws)):
            assert np.array_equal(p.detach().numpy().ravel(), w), f"step {step}, tensor {k}"
    assert all(0 < s["moved"] <= 1 for s in opt.last_statistics)


@pytest.mark.parametrize("push", [False, True])
def test_a_channels_last_parameter_takes_the_same_step_as_a_contiguous_one(push):
    # the update walks the memory in storage order: per weight it is the same arithmetic, so
    # without the push the steps agree bit for bit; with it, |h| is summed in another order (a
    # last-bit difference in r), which can move a floor by at most one grid step (absolute)
    torch.manual_seed(3)
    w = torch.randn(16, 4, 3, 3)
    grads = [torch.randn(16, 4, 3, 3) for _ in range(5)]
    plain = torch.nn.Parameter(w.clone())
    cl = torch.nn.Parameter(w.clone().contiguous(memory_format=torch.channels_last))
    assert not cl.is_contiguous()
    opts = [QtAdam([plain], push=push), QtAdam([cl], push=push)]
    for g in grads:
        plain.grad = g.clone()
        cl.grad = g.clone().contiguous(memory_format=torch.channels_last)
        for o in opts:
            o.step()
    assert cl.is_contiguous(memory_format=torch.channels_last)  # updated in place, layout kept
    diff = (plain.detach() - cl.detach()).abs().max().item()
    if push:
        assert diff <= 5 * 1.01 / q.gradient_qp(0.0)  # at most one grid step per step, 5 steps
    else:
        assert diff == 0


def test_the_schedule_at_its_switch_points():
    # Q_p = 2^19 * 2^floor(log2 ln(t_e + 2)): 2^18 until t_e = e - 2, 2^19 until e^2 - 2, 2^20 until e^4 - 2
    below, above = 1 - 1e-12, 1 + 1e-12
    assert q.gradient_qp(0.0) == 2.0 ** 18
    for t, power in ((math.e - 2, 19), (math.e ** 2 - 2, 20), (math.e ** 4 - 2, 21)):
        assert q.gradient_qp(t * below) == 2.0 ** (power - 1)
        assert q.gradient_qp(t * above) == 2.0 ** power
    assert 1 / q.gradient_qp(0.0) == pytest.approx(3.8e-6, rel=0.01)  # the 3.8e-6 -> 1.9e-6 -> 9.5e-7 -> 4.8e-7
    assert q.push_factor(7.5) == 0.5 and q.push_factor(0.0) == pytest.approx(1.0, abs=1e-12) and q.push_factor(15.0) < 1e-12


def test_each_ablation_differs_from_the_base_in_its_one_respect():
    # one step from the same state: floor and round differ by 0 or one grid step per weight;
    # without the push the step is the quantized h alone; the gaussian step is h + r plus noise
    def one_step(**kw):
        net, x, y = small_problem()
        opt = QtAdam(net.parameters(), **kw)
        torch.nn.functional.cross_entropy(net(x), y).backward()
        w0 = [p.detach().numpy().copy() for p in net.parameters()]
        opt.step()
        return [p.detach().numpy() - a for p, a in zip(net.parameters(), w0)]

    base, rounded, no_push = one_step(), one_step(quantizer="round"), one_step(push=False)
    grid = F(1 / q.gradient_qp(1 / 600))
    for b, r in zip(base, rounded):
        d = np.abs(r - b)
        assert np.all((d == 0) | (np.abs(d - grid) <= grid * 1e-3))  # up to the float32 rounding of w + dw
        assert np.any(d > 0)
    assert any(np.any(a != b) for a, b in zip(base, no_push))  # the push moves the first steps
    assert all(np.all(np.abs(a - b) <= 2 * 1e-3 + grid) for a, b in zip(base, no_push))  # r <= lr in norm


def test_a_seeded_training_run_on_2000_images_is_reproducible_and_lowers_the_loss():
    try:
        train_x, train_y, _, _ = ml.load_fashion_mnist()
    except ValueError as e:
        pytest.skip(f"no Fashion-MNIST (Debian: dataset-fashion-mnist): {e}")
    x = torch.from_numpy(train_x[:2000].astype(np.float32) / 255).unsqueeze(1)
    y = torch.from_numpy(train_y[:2000].astype(np.int64))

    def run():
        net = ml.authors_network(seed=3)
        opt = QtAdam(net.parameters(), steps_per_epoch=20)
        losses = []
        for b in range(20):
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(x[b * 100:(b + 1) * 100]), y[b * 100:(b + 1) * 100])
            loss.backward()
            opt.step()
            losses.append(loss.item())
        with torch.no_grad():
            final = torch.nn.functional.cross_entropy(net(x), y).item()
        return [p.detach().numpy().copy() for p in net.parameters()], losses, final

    w1, l1, f1 = run()
    w2, l2, f2 = run()
    assert all(np.array_equal(a, b) for a, b in zip(w1, w2)) and l1 == l2  # a seed fixes the run
    assert sum(p.size for p in w1) == 50186  # the authors' network
    assert f1 < 0.75 * math.log(10)  # from ln 10 = 2.30 at the start; measured 1.0 after one pass


def test_the_idx_reader_reads_good_files_and_refuses_bad_ones(tmp_path):
    good = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    header = bytes([0, 0, 0x08, 3]) + np.array([2, 3, 4], dtype=">u4").tobytes()
    (tmp_path / "a.idx").write_bytes(header + good.tobytes())
    (tmp_path / "a.idx.gz").write_bytes(gzip.compress(header + good.tobytes()))
    assert np.array_equal(ml.read_idx(str(tmp_path / "a.idx")), good)
    assert np.array_equal(ml.read_idx(str(tmp_path / "a.idx.gz")), good)
    ints = np.array([[1, -2], [300000, 4]], dtype=">i4")
    (tmp_path / "i.idx").write_bytes(bytes([0, 0, 0x0C, 2]) + np.array([2, 2], dtype=">u4").tobytes() + ints.tobytes())
    assert np.array_equal(ml.read_idx(str(tmp_path / "i.idx")), ints.astype(np.int32))
    bad = {
        "truncated.idx": (header + good.tobytes()[:-1], "truncated"),
        "trailing.idx": (header + good.tobytes() + b"x", "trailing"),
        "magic.idx": (bytes([1, 0, 0x08, 3]) + header[4:] + good.tobytes(), "magic"),
        "type.idx": (bytes([0, 0, 0x07, 3]) + header[4:] + good.tobytes(), "type code"),
        "dims.idx": (bytes([0, 0, 0x08, 9]) + header[4:] + good.tobytes(), "dimensions"),
        "zero.idx": (bytes([0, 0, 0x08, 1]) + np.array([0], dtype=">u4").tobytes(), ">= 1"),
        "short.idx": (b"\x00\x00", "too short"),
        "header.idx": (bytes([0, 0, 0x08, 3, 0, 0]), "header"),
        "damaged.gz": (gzip.compress(header + good.tobytes())[:-6], "gzip"),
    }
    for name, (data, fragment) in bad.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ValueError) as e:
            ml.read_idx(str(tmp_path / name))
        assert name in str(e.value) and fragment in str(e.value), str(e.value)
    with pytest.raises(ValueError, match="missing.idx"):
        ml.read_idx(str(tmp_path / "missing.idx"))
    with pytest.raises(ValueError, match="dataset-fashion-mnist"):
        ml.load_fashion_mnist(str(tmp_path))


def test_a_killed_training_run_resumes_from_its_checkpoint_bit_for_bit(tmp_path):
    try:
        tx, ty, sx, sy = ml.load_fashion_mnist()
    except ValueError as e:
        pytest.skip(f"no Fashion-MNIST (Debian: dataset-fashion-mnist): {e}")
    data = (tx, ty, sx[:1000], sy[:1000])  # 1,000 test images: a test, not a measurement
    torch.set_num_threads(1)  # reproducible for a given thread count
    whole = ml.run_training("qtadam", "standard", 4, 2, data, str(tmp_path / "a"), train_range=(0, 2000), log=lambda m: None)

    class Killed(Exception):
        pass

    def kill_after_first_epoch(message):
        if "epoch 1/2" in message:
            raise Killed

    os.makedirs(tmp_path / "b")
    with pytest.raises(Killed):
        ml.run_training("qtadam", "standard", 4, 2, data, str(tmp_path / "b"), train_range=(0, 2000), log=kill_after_first_epoch)
    resumed = ml.run_training("qtadam", "standard", 4, 2, data, str(tmp_path / "b"), train_range=(0, 2000), log=lambda m: None)
    strip = lambda rs: [{k: v for k, v in r.items() if k != "train_seconds"} for r in rs]  # noqa: E731
    assert strip(whole) == strip(resumed)
    assert whole[1]["train_loss"] < whole[0]["train_loss"]
    # the shuffled order is a permutation drawn from (seed, epoch); the authors' is the stored order
    assert sorted(ml.batch_order(2000, 1, 4, "standard")) == list(range(2000))
    assert not np.array_equal(ml.batch_order(2000, 0, 4, "standard"), ml.batch_order(2000, 1, 4, "standard"))
    assert np.array_equal(ml.batch_order(2000, 3, 4, "authors"), np.arange(2000))


def test_the_report_of_a_study_file(tmp_path):
    pytest.importorskip("h5py")
    scipy_stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(1)
    runs = {}
    acc = {"adam": [0.86, 0.87, 0.865], "qtadam": [0.87, 0.872, 0.869], "sgd-momentum": [0.88, 0.881, 0.879]}
    for arm, values in acc.items():
        for seed, a in enumerate(values):
            runs[(arm, "standard", seed)] = [{"epoch": e + 1, "train_loss": float(rng.random()), "accuracy": a if e == 2 else 0.5,
                                              "eval_loss": 0.4, "train_seconds": 30.0} for e in range(3)]
    path = str(tmp_path / "s.h5")
    ml.write_results(path, runs, {"software": "qtzflow", "sgd_momentum_lr": 0.03})
    back, meta = ml.read_results(path)
    assert np.array_equal(back[("qtadam", "standard", 1)]["accuracy"], [0.5, 0.5, 0.872])
    text = open(ml.report(path, str(tmp_path / "r.md"))).read()
    assert "| qtadam | 3 | 3 | 87.03 ± 0.15 % |" in text
    p = scipy_stats.ttest_ind(acc["qtadam"], acc["adam"], equal_var=False).pvalue
    assert f"| qtadam | adam | +0.53 points | {p:.2g} |" in text
    assert "| qtadam | sgd-momentum |" in text
    with pytest.raises(ValueError, match="not a readable HDF5"):
        ml.read_results(str(tmp_path / "r.md"))
    # the README's section is generated from the same tables; a README without markers is refused
    readme = tmp_path / "README.md"
    readme.write_text("# x\n<!-- verdict:s:begin -->\nPLACEHOLDER\n<!-- verdict:s:end -->\nrest\n")
    ml.report(path, str(tmp_path / "r.md"), readme=str(readme))
    text = readme.read_text()
    assert "PLACEHOLDER" not in text and "| qtadam | 3 | 3 | 87.03 ± 0.15 % |" in text and "**Protocol: standard" in text and text.endswith("rest\n")
    readme.write_text("no markers\n")
    with pytest.raises(ValueError, match="markers"):
        ml.report(path, str(tmp_path / "r2.md"), readme=str(readme))
    assert not (tmp_path / "r2.md").exists()


def test_v12_quick_the_white_noise_checks_pass_and_the_summary_is_written(tmp_path):
    try:
        ml.load_fashion_mnist()
    except ValueError as e:
        pytest.skip(f"no Fashion-MNIST (Debian: dataset-fashion-mnist): {e}")
    import json
    readme = tmp_path / "README.md"
    readme.write_text("before\n<!-- verdict:v12_summary:begin -->\nold\n<!-- verdict:v12_summary:end -->\nafter\n")
    assert ml.verify_weight_noise(str(tmp_path), quick=True, log=lambda m: None, readme=str(readme))
    text = readme.read_text()  # the section is generated from the measurement, the rest kept
    assert "old" not in text and "every check passes" in text and text.startswith("before\n") and text.endswith("after\n")
    out = json.loads((tmp_path / "v12_summary.json").read_text())
    assert len(out["checks"]) == 5 and all(c["pass"] for c in out["checks"])
    a = out["measurements"]["qtadam"]
    assert 0 <= a["ks_uniform"] <= 1 and a["samples"] > 100000
    assert "QtAdam" in (tmp_path / "v12_summary.md").read_text()


def test_the_command_line_refuses_bad_input_with_exit_2(tmp_path):
    assert ml.main(["report", str(tmp_path / "missing.h5"), "-o", str(tmp_path / "r.md")]) == 2
    assert ml.main(["study", "-o", str(tmp_path / "s.h5"), "--data", str(tmp_path)]) == 2  # no Fashion-MNIST files there
    assert ml.main(["study", "-o", str(tmp_path / "s.h5"), "--epochs", "0"]) == 2
    (tmp_path / "plain.md").write_text("no markers\n")  # refused before the experiment runs
    assert ml.main(["verify", "--quick", "-o", str(tmp_path / "v"), "--readme", str(tmp_path / "plain.md")]) == 2
    assert not (tmp_path / "v").exists()
    assert not (tmp_path / "r.md").exists() and not (tmp_path / "s.h5").exists()
