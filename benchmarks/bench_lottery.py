"""Frankle & Carbin (ICLR 2019) on LeNet-300-100 / full MNIST: winning tickets vs random reinitialisation.

Setup as the paper (shared/reference.md section 4): Gaussian Glorot init, Adam 1.2e-3, batch 60, 5,000
training images held out for validation, validation loss every 100 iterations, early stop = iteration
of minimum validation loss (test accuracy reported there), per round 20% of the surviving hidden
weights and 10% of the output weights pruned, biases kept, survivors reset to theta_0; control = same
mask, fresh random init. SHORTENED for the CPU budget of a shared 2-core machine: ITERATIONS per
training run instead of the paper's 50,000 (early-stop iterations at the cap are censored).

Targets (issue 7): at 21% of weights the ticket reaches minimum validation loss earlier than the dense
net; at <= 3.6% it beats the random-reinit control by >= 0.3 points. Per-round results are cached as
JSON under ``~/.cache/pjsim/bench`` (keyed by the schedule) with the final ticket's weights, so a rerun
only re-costs; delete them to retrain.
"""

from __future__ import annotations

import hashlib
import json
import os
import time

import torch

from benchmarks._costing import CACHE, cost_model, mnist_path, publish_table
from models.lenet import LeNet300100
from models.mnist import load_mnist
from simulator.compress.distill import dense_record
from simulator.compress.lottery import LotteryConfig, glorot_normal_init, lottery_ticket, ticket_record
from simulator.fileio import write_text_atomic

ITERATIONS = 8_000
ROUNDS = 17  # 2.3% of weights remain (3.6% after 15 rounds is the paper's smallest point in the text)
#: Rounds at which the random-reinit control is trained: every pruning round.
CONTROL_ROUNDS = tuple(range(1, ROUNDS + 1))
PAPER_DENSITY = {0: 100.0, 3: 51.3, 7: 21.1, 9: 13.5, 15: 3.6}
CONTROL_NOTE = "control at every round" if CONTROL_ROUNDS == tuple(range(1, ROUNDS + 1)) else f"control at rounds {list(CONTROL_ROUNDS)}"


def _paths(cfg: LotteryConfig) -> tuple:
    key = hashlib.sha1(json.dumps([repr(cfg), ROUNDS, list(CONTROL_ROUNDS)], sort_keys=True).encode()).hexdigest()[:10]
    return CACHE / f"lottery-{key}.json", CACHE / f"lottery-{key}-ticket.pt"


def _outcome_dict(o) -> dict | None:
    if o is None:
        return None
    return {f: getattr(o, f) for f in o.__slots__}


def run() -> list[dict]:
    torch.set_num_threads(1)
    html: list = []
    data = mnist_path()
    x, y = load_mnist("train", data)
    test = load_mnist("test", data)
    perm = torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(0))
    val = (x[perm[:5000]], y[perm[:5000]])
    train = (x[perm[5000:]], y[perm[5000:]])
    cfg = LotteryConfig(iterations=ITERATIONS, seed=0)
    json_path, ticket_path = _paths(cfg)
    model = LeNet300100()
    start = time.perf_counter()
    partial = json_path.with_suffix(".partial.json")
    ticket_available = True
    if os.environ.get("PJSIM_LOTTERY_PARTIAL") and partial.is_file() and not json_path.is_file():
        # a run cut short by the time budget: report the rounds that finished (no final ticket to cost)
        rounds = json.loads(partial.read_text())
        ticket_available = False
        source = f"PARTIAL: rounds 0-{rounds[-1]['round']} of {ROUNDS} finished before the time budget ran out"
    elif json_path.is_file() and ticket_path.is_file():
        rounds = json.loads(json_path.read_text())
        saved = torch.load(ticket_path)
        model.load_state_dict(saved["state"])
        masks = saved["masks"]
        record = ticket_record(model, masks, cfg, ROUNDS)
        source = "results from cache"
    else:
        rounds = []

        def on_round(r) -> None:
            rounds.append({"round": r.round, "density": r.density, "ticket": _outcome_dict(r.ticket),
                           "control": _outcome_dict(r.control)})
            print(f"   lottery round {r.round}: {100 * r.density:.1f}% ticket {r.ticket.test_accuracy:.2f}% "
                  f"@{r.ticket.early_stop_iteration}"
                  + (f", control {r.control.test_accuracy:.2f}% @{r.control.early_stop_iteration}" if r.control else "")
                  + f" ({time.perf_counter() - start:.0f} s)", flush=True)
            CACHE.mkdir(parents=True, exist_ok=True)
            write_text_atomic(partial, json.dumps(rounds, indent=1))

        model, record, _ = lottery_ticket(model, train, val, test, ROUNDS, cfg, control=CONTROL_ROUNDS, on_round=on_round)
        masks = {n: (p != 0) for n, p in model.named_parameters() if n.endswith("weight")}
        write_text_atomic(json_path, json.dumps(rounds, indent=1))
        tmp = ticket_path.with_suffix(".tmp")
        torch.save({"state": model.state_dict(), "masks": masks}, tmp)
        tmp.replace(ticket_path)
        source = f"trained in {time.perf_counter() - start:.0f} s"

    rows = []
    short = f"{ITERATIONS} iterations/run (paper 50,000); {CONTROL_NOTE}"
    for r in rounds:
        k, t, c = r["round"], r["ticket"], r["control"]
        paper = f"paper density {PAPER_DENSITY[k]}%" if k in PAPER_DENSITY else ""
        capped = " (at cap)" if t["early_stop_iteration"] >= ITERATIONS else ""
        rows.append({"benchmark": f"lottery/round{k:02d}", "metric": f"ticket test acc @ {100 * r['density']:.1f}% weights",
                     "value": t["test_accuracy"], "unit": "%", "target": paper,
                     "note": f"early stop {t['early_stop_iteration']}{capped}; {short}"})
        if c is not None:
            capped = " (at cap)" if c["early_stop_iteration"] >= ITERATIONS else ""
            rows.append({"benchmark": f"lottery/round{k:02d}", "metric": f"random reinit test acc @ {100 * r['density']:.1f}%",
                         "value": c["test_accuracy"], "unit": "%",
                         "note": f"early stop {c['early_stop_iteration']}{capped}; ticket - control = {t['test_accuracy'] - c['test_accuracy']:+.2f} pts"})
    dense = rounds[0]["ticket"]
    by_round = {r["round"]: r for r in rounds}
    if 7 in by_round:
        t21 = by_round[7]["ticket"]
        ok = t21["early_stop_iteration"] < dense["early_stop_iteration"]
        rows.append({"benchmark": "lottery/target", "metric": "early stop at 21.1%: ticket vs dense",
                     "value": t21["early_stop_iteration"], "unit": "iterations",
                     "target": f"< dense ({dense['early_stop_iteration']}); paper: 38% earlier",
                     "note": ("MET" if ok else "MISSED") + (f"; control {by_round[7]['control']['early_stop_iteration']}"
                                                            if by_round[7]["control"] else "")})
    small = [r for r in rounds if r["round"] > 0 and r["density"] <= 0.0361 and r["control"] is not None]
    for r in small:
        gap = r["ticket"]["test_accuracy"] - r["control"]["test_accuracy"]
        rows.append({"benchmark": "lottery/target", "metric": f"ticket - random reinit at {100 * r['density']:.1f}%",
                     "value": gap, "unit": "points", "target": ">= 0.3", "note": "MET" if gap >= 0.3 else "MISSED"})

    # Cost the dense net and the final winning ticket through the simulator.
    final = rounds[-1]
    dense_model = LeNet300100()
    glorot_normal_init(dense_model, torch.Generator().manual_seed(0))
    costs = cost_model("lottery: dense LeNet-300-100 (round 0)", dense_model, dense_record(dense_model, "dense"),
                       dense["test_accuracy"], f"accuracy of the round-0 run; {short}", reports=html)
    if not ticket_available:
        rows.append({"benchmark": "lottery/partial", "metric": "rounds finished", "value": rounds[-1]["round"],
                     "unit": "rounds", "target": str(ROUNDS), "note": source})
        publish_table("lottery", costs, html)
        return rows
    costs += cost_model(f"lottery: winning ticket {100 * final['density']:.1f}%", model, record,
                        final["ticket"]["test_accuracy"],
                        f"sparse, 32-bit values + {cfg.index_bits}-bit relative index; accuracy at early stop; {source}", reports=html)
    publish_table("lottery", costs, html)
    for c in costs:
        rows.append({"benchmark": "lottery/cost", "metric": f"{c['method']} on {c['profile']}", "value": c["energy_uj"],
                     "unit": "uJ/inference", "note": f"storage {c['weight_stored_kb']:.1f} KB, fits on-chip {c['fits_on_chip']}"})
    return rows
