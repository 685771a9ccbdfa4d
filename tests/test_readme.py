"""The README states the protocol as the code implements it (wording the code can check)."""

import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _readme():
    with open(os.path.join(ROOT, "README.md")) as f:
        return f.read()


def test_serving_outputs_list_every_export_output():
    from keras_slots import export

    section = _readme().split("## Export and inference", 1)[1].split("\n## ", 1)[0]
    for key in export.OUTPUT_KEYS:
        assert f"`{key}`" in section, key


def test_claims_the_code_does_not_back_are_gone():
    text = _readme()
    assert "Training never loses work" not in text  # a SIGKILL loses recent steps
    assert "checkpoint_every" in text.split("## Scaling out", 1)[1]
    assert "flat shading" not in text and "Lambert" in text
    assert "the paper's CLEVR6 run, bfloat16" not in text
    assert "Objects Room is not in the paper's object-discovery table" in text
    assert "mean-pooled encoder features -> MLP" not in text
    assert "input is never the bottleneck" not in text  # true of these CPUs only


def test_per_image_and_seed_spreads_are_labelled_apart():
    section = _readme().split("## Slot Attention vs. the Slot MLP baseline", 1)[1]
    section = section.split("\n## ", 1)[0]
    assert "std over images" in section and "std over 5 seeds" in section
    assert "one training seed each" in section


def test_ari_edge_case_states_both_conventions_exactly():
    section = _readme().split("## Evaluation", 1)[1].split("\n## ", 1)[0]
    assert "constant over all pixels" in section and "--ari_convention=deepmind" in section
    assert "per_image.json" in section and "fg_ari_bg0" in section
