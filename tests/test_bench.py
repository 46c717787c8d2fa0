"""The bench grid and the peers' feature alignment, on games with known answers."""

import numpy as np
import pytest
from blackbox_explain.adapters import FunctionScorer
from games import additive_game, interaction_game

from blackbox_explain.bench import run_bench
from blackbox_explain.peers import run_peer
from blackbox_explain.segmentation import Segmentation


def test_grid_counts_calls_and_measures_accuracy():
    game = interaction_game(7, k=1, seed=1)
    result = run_bench(
        FunctionScorer(game), [game.text], methods=["exact", "kernelshap"], budgets=[128], seeds=2
    )
    exact = [c for c in result.cells if c.method == "exact"]
    assert all(c.rel_l2 == pytest.approx(0, abs=1e-12) and c.calls == 128 for c in exact)
    assert all(c.calls <= 128 for c in result.cells)
    headline = {h["method"]: h["calls"] for h in result.headline()}
    assert headline["exact"] == 128


@pytest.mark.parametrize(
    "peer",
    ["captum.featureablation", "captum.shapleyvaluesampling", "shap.permutation", "shap.partition"],
)
def test_peers_see_our_segments_and_deletion_baseline(peer):
    pytest.importorskip("captum" if peer.startswith("captum") else "shap")
    game = additive_game(6, k=1, seed=2)
    seg = Segmentation.words(game.text)
    values = run_peer(peer, game, seg, 0, 64, 0)
    # on an additive game every peer, aligned feature for feature, finds the weights exactly
    np.testing.assert_allclose(values, game.shapley()[:, 0], atol=1e-6)  # Captum sums in float32


def test_lime_peer_recovers_an_additive_game_up_to_its_ridge():
    pytest.importorskip("lime")
    game = additive_game(6, k=1, seed=3)
    values = run_peer("lime", game, Segmentation.words(game.text), 0, 300, 0)
    truth = game.shapley()[:, 0]
    assert np.linalg.norm(values - truth) / np.linalg.norm(truth) < 0.1
