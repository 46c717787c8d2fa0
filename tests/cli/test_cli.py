import io
import json
import os
import subprocess
import sys

import pytest
from cli_models import CALLS

from blackbox_explain.cli import main


def test_help_lists_commands(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    for command in ("demo", "explain", "methods"):
        assert command in out
    with pytest.raises(SystemExit) as info:
        main(["explain", "--help"])
    assert info.value.code == 0
    assert "python:MODULE:NAME" in capsys.readouterr().out


def test_every_option_of_every_command_has_help():
    # --granularity had none; bench's --peers named the peers of before shapiq
    import argparse

    from blackbox_explain.bench.peers import PEERS
    from blackbox_explain.cli import build_parser

    parser = build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    for name, command in commands.choices.items():
        for action in command._actions:
            assert action.help, (name, action.option_strings or action.dest)
    peers_help = next(a.help for a in commands.choices["bench"]._actions if a.dest == "peers")
    assert all(peer in peers_help for peer in PEERS)


def test_explain_example_writes_json(tmp_path, capsys):
    out = tmp_path / "e.jsonl"
    code = main(
        [
            "explain",
            "-m",
            "example",
            "-t",
            "not good at all",
            "--method",
            "exact",
            "--budget",
            "64",
            "--json",
            str(out),
            "--output",
            "positive",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "exact explanation of 'positive'" in printed
    record = json.loads(out.read_text().splitlines()[0])
    assert record["meta"]["method"] == "exact" and len(record["values"]) == 4


def test_jsonl_input_and_python_spec(tmp_path, capsys):
    texts = tmp_path / "in.jsonl"
    texts.write_text('{"text": "good food"}\n"bad service"\n')
    spec = "python:blackbox_explain.examples:lexicon_sentiment"
    code = main(["explain", "-m", spec, "--jsonl", str(texts), "--budget", "8"])
    assert code == 0
    assert capsys.readouterr().out.count("explanation of") == 2


#: seven words on a budget below KernelSHAP's least for them
SEVEN_WORDS = "the movie was great but too long"


@pytest.mark.parametrize(
    "argv,message",
    [
        (["explain", "-m", "example", "-t", " "], "empty"),
        (["explain", "-m", "nope", "-t", "hi"], "unknown model spec"),
        (["explain", "-m", "example"], "--text"),
        (["explain", "-m", "example", "--file", "/no/such/file"], "/no/such/file: No such file"),
        (["summarize", "/no/such.jsonl"], "error: /no/such.jsonl: No such file or directory\n"),
        (
            [
                "explain",
                "-m",
                "example",
                "-t",
                "a b c d e f g h",
                "--method",
                "exact",
                "--budget",
                "9",
            ],
            "partition",
        ),
        (  # the library's hints in the command line's own flags
            ["explain", "-m", "example", "-t", SEVEN_WORDS, "-b", "6", "--method", "kernelshap"],
            "use --method auto (on fewer calls than segments",
        ),
        (
            ["explain", "-m", "example", "-t", SEVEN_WORDS, "-b", "6", "--method", "kernelshap"],
            "coarser granularity (e.g. --granularity sentence)",
        ),
    ],
)
def test_user_errors_exit_2_without_traceback(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_text_as_argument_or_from_standard_input(monkeypatch, capsys):
    argv = ["explain", "-m", "example", "--method", "exact", "--no-progress"]
    assert main([*argv, "--text", "not good at all"]) == 0
    with_option = capsys.readouterr().out
    assert main([*argv, "not good at all"]) == 0
    assert capsys.readouterr().out == with_option
    monkeypatch.setattr("sys.stdin", io.StringIO("not good at all"))
    assert main([*argv, "-"]) == 0
    assert capsys.readouterr().out == with_option
    with pytest.raises(SystemExit) as info:
        main([*argv, "a text", "--text", "another"])
    assert info.value.code == 2
    assert "not allowed with argument TEXT" in capsys.readouterr().err


def test_output_cut_short_by_its_reader_is_not_an_error():
    command = [sys.executable, "-m", "blackbox_explain", "explain", "-m", "example"]
    command += ["--no-progress", "--jsonl", "/dev/stdin"]
    texts = "\n".join(json.dumps(f"text number {i} is not good at all") for i in range(1000))
    with subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        process.stdin.write(texts.encode())
        process.stdin.close()
        assert process.stdout.readline().startswith(b"auto (exact) explanation")
        process.stdout.close()  # like `| head -1`
        err = process.stderr.read().decode()
        assert process.wait(timeout=120) == 0, err
    assert "Broken pipe" not in err and "Traceback" not in err


def test_demo_with_example_model(tmp_path, capsys):
    report = tmp_path / "demo.html"
    assert main(["demo", "--model", "example", "--budget", "64", "--html", str(report)]) == 0
    assert "model calls" in capsys.readouterr().out
    assert "example-lexicon-sentiment" in report.read_text()


def test_hf_lm_folder_with_target_and_html(tmp_path, capsys):
    pytest.importorskip("torch")
    from tiny_models import build_tiny_llama

    folder = build_tiny_llama(tmp_path / "lm")
    html = tmp_path / "r.html"
    code = main(
        [
            "explain",
            "-m",
            str(folder),
            "-t",
            "the movie was great",
            "--target",
            " yes",
            "--budget",
            "16",
            "--method",
            "exact",
            "--html",
            str(html),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "explanation of 'total'" in out
    assert "target explained" in html.read_text()
    code = main(
        [
            "explain",
            "-m",
            f"hf-lm:{folder}",
            "-t",
            "the movie was great",
            "--labels",
            " positive, negative",
            "--budget",
            "16",
            "--output",
            "positive",
        ]
    )
    assert code == 0 and "explanation of 'positive'" in capsys.readouterr().out


def test_bad_model_folder(tmp_path, capsys):
    (tmp_path / "config.json").write_text('{"architectures": ["Something"]}')
    assert main(["explain", "-m", str(tmp_path), "-t", "hi"]) == 2
    assert "hf-lm:PATH" in capsys.readouterr().err
    assert main(["explain", "-m", "hf-lm:/no/such/folder", "-t", "hi"]) == 2


def test_explain_with_evaluation(tmp_path, capsys):
    out = tmp_path / "e.jsonl"
    assert (
        main(
            [
                "explain",
                "-m",
                "example",
                "-t",
                "not good at all",
                "--budget",
                "64",
                "--evaluate",
                "--output",
                "positive",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "AOPC deletion" in printed and "vs exact Shapley" in printed
    assert "evaluation" in json.loads(out.read_text())["meta"]


def test_text_option_is_repeatable(tmp_path, capsys):
    out = tmp_path / "e.jsonl"
    argv = ["explain", "-m", "example", "-t", "good food", "-t", "rude staff", "--json", str(out)]
    assert main([*argv, "--budget", "16"]) == 0
    texts = [json.loads(line)["text"] for line in out.read_text().splitlines()]
    assert texts == ["good food", "rude staff"]  # the first was silently dropped before
    capsys.readouterr()


def test_methods_lists_each_methods_options(capsys):
    assert main(["methods"]) == 0
    out = capsys.readouterr().out
    assert 'options: n_bootstrap=32, max_fit_points=192, design="auto"' in out
    assert "--option KEY=VALUE" in out


def test_method_options_reach_the_method(tmp_path, capsys):
    out = tmp_path / "e.jsonl"
    argv = ["explain", "-m", "example", "-t", "the food was not good but the staff were friendly"]
    argv += ["-b", "40", "--no-progress", "--json", str(out)]
    options = ["-o", "ridge=0.5", "--option", "size_sampling=uniform"]
    assert main([*argv, "--method", "kernelshap", *options]) == 0
    meta = json.loads(out.read_text())["meta"]
    assert meta["params"]["ridge"] == 0.5 and meta["params"]["size_sampling"] == "uniform"
    # the same as a method spec; --option adds to (and overrides) the spec's options
    spec = "kernelshap:ridge=0.5:size_sampling=uniform:n_bootstrap=3"
    assert main([*argv, "--method", spec, "-o", "n_bootstrap=0"]) == 0
    params = json.loads(out.read_text())["meta"]["params"]
    assert params == {**meta["params"], "n_bootstrap": 0}
    capsys.readouterr()
    assert main([*argv, "--method", "nope"]) == 2
    assert "unknown method 'nope'" in capsys.readouterr().err


@pytest.mark.parametrize(
    "option,message",
    [
        ("design", "--option must be KEY=VALUE"),
        ("seed=3", "use --seed"),
        # explain()'s own parameters were passed twice: a TypeError's traceback
        ("budget=5", "use --budget"),
        ("method=kernelshap", "use --method"),
        ("text=x", "use TEXT or --text"),
        ("self=1", "is not a method option"),
        ("noise_samples=2", "use --noise-samples"),
        ("desig=balanced", "has no option 'desig'; its options: n_bootstrap, max_fit_points"),
        ("design=halves", "design must be one of auto, kernel, balanced"),
    ],
)
def test_bad_method_options_are_named(option, message, capsys):
    argv = ["explain", "-m", "example", "-t", "a b c d e f", "--method", "gpshap", "-o", option]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_no_progress_bar_of_the_model_loader_either(tmp_path):
    """``--no-progress`` (or a stderr that is not a terminal) also keeps Hugging Face's own
    "Loading weights" bar out of the output."""
    pytest.importorskip("torch")
    from tiny_models import build_tiny_llama

    folder = build_tiny_llama(tmp_path / "lm")
    command = [sys.executable, "-m", "blackbox_explain", "explain", "-m", str(folder)]
    command += ["-t", "the movie was great", "--target", " yes", "--method", "exact", "-b", "16"]
    env = {k: v for k, v in os.environ.items() if k != "HF_HUB_DISABLE_PROGRESS_BARS"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "exact explanation" in done.stdout
    assert "Loading weights" not in done.stderr and "it/s" not in done.stderr, done.stderr


def test_terminal_lists_the_top_segments_of_a_long_text(capsys):
    text = " ".join(f"w{i}" for i in range(60))
    spec = "python:cli_models:counting_model"
    argv = ["explain", "-m", spec, "--budget", "200", "--no-progress", text]
    CALLS.clear()
    assert main([*argv, "--top", "-1"]) == 2
    assert "--top must be >= 0" in capsys.readouterr().err and not CALLS
    assert main(argv) == 0
    rows = capsys.readouterr().out.splitlines()
    assert sum(row.strip().startswith("#") for row in rows) == 40
    assert any("20 more segments" in row for row in rows)
    assert main([*argv, "--top", "0"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert sum(row.strip().startswith("w") for row in rows) == 60
    assert not any("more segments" in row for row in rows)


@pytest.mark.parametrize("command", ["explain", "counterfactual"])
def test_an_html_report_that_cannot_be_written_fails_before_any_call(command, tmp_path, capsys):
    # the report is written at the end: it failed there, after every answer was paid for
    spec = "python:cli_models:counting_model"
    goal = ["--delta", "-1"] if command == "counterfactual" else []
    for path in (tmp_path, tmp_path / "no-such-folder" / "report.html"):
        CALLS.clear()
        argv = [command, "-m", spec, *goal, "--no-progress", "--html", str(path), "one two"]
        assert main(argv) == 2
        assert "cannot write there" in capsys.readouterr().err and not CALLS
    report = tmp_path / "report.html"
    argv = [command, "-m", spec, *goal, "--no-progress", "--html", str(report), "one two"]
    assert main(argv) == 0 and CALLS
    assert report.read_text().lower().startswith("<!doctype html>")


def test_many_texts_at_once_with_their_faithfulness(tmp_path, capsys):
    # --jsonl with --evaluate ran one text at a time, without rerun skipping
    texts = tmp_path / "in.jsonl"
    texts.write_text('{"text": "good food", "id": "a"}\n{"text": "bad service", "id": "b"}\n')
    out = tmp_path / "out.jsonl"
    argv = ["explain", "-m", "example", "--jsonl", str(texts), "--json", str(out)]
    assert main([*argv, "--evaluate", "--output", "positive", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert printed.count("faithfulness of the explanation of 'positive'") == 2
    saved = [json.loads(line) for line in out.read_text().splitlines()]
    assert [s["meta"]["evaluation"]["output"] for s in saved] == ["positive", "positive"]
    assert main([*argv, "--evaluate", "--no-progress"]) == 0  # a rerun skips both
    assert len(out.read_text().splitlines()) == 2


def test_python_spec_finds_a_module_of_the_current_folder_or_a_file(tmp_path, monkeypatch, capsys):
    # An installed console script does not look in the current folder (python -m does): a
    # README's python:mymodule:my_model failed there with "No module named 'mymodule'".
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", os.getcwd())])
    code = "def words(texts):\n    return [[float(len(t.split()))] for t in texts]\n"
    (tmp_path / "cwd_words_model.py").write_text(code)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "file_words_model.py").write_text(code)
    (tmp_path / "elsewhere" / "json.py").write_text(code)  # named like a module imported already
    monkeypatch.chdir(tmp_path)
    specs = ["python:cwd_words_model:words", "python:elsewhere/file_words_model.py:words"]
    for spec in [*specs, "python:elsewhere/json.py:words"]:
        out = tmp_path / "out.jsonl"
        assert main(["explain", "-m", spec, "--no-progress", "--json", str(out), "a b"]) == 0
        assert json.loads(out.read_text())["values"] == [[1.0], [1.0]]
    for spec, said in (
        ("python:cwd_words_model", "python:MODULE:NAME or python:FILE.py:NAME"),
        ("python:missing.py:words", "no file missing.py"),
    ):
        assert main(["explain", "-m", spec, "--no-progress", "a b"]) == 2
        assert said in capsys.readouterr().err


@pytest.mark.parametrize("command", ["counterfactual", "examples", "evaluate"])
def test_commands_that_call_a_hosted_api_take_its_caps_and_prices(command):
    from blackbox_explain.cli import build_parser
    from blackbox_explain.cli.models import model_spec_from_args

    argv = [command, "-m", "openai-chat:m", "--base-url", "http://127.0.0.1:1/v1"]
    argv += ["--max-cost", "0.5", "--price-in", "0.15", "--max-concurrency", "3"]
    argv += {"examples": ["--corpus", "c.jsonl", "hi"], "evaluate": ["e.jsonl"]}.get(
        command, ["hi"]
    )
    api = model_spec_from_args(build_parser().parse_args(argv)).api
    assert api is not None and api["max_cost"] == 0.5 and api["max_concurrency"] == 3
    assert api["prices"].input_per_million == 0.15


def test_explain_writes_each_explanation_as_it_is_found(tmp_path):
    out = tmp_path / "out.jsonl"
    spec = "python:cli_models:fails_on_boom"
    argv = ["explain", "-m", spec, "--no-progress", "--json", str(out), "-t", "a b", "-t", "boom"]
    assert main(argv) == 2  # the scorer's error, reported in one line
    kept = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(kept) == 1 and kept[0]["values"] == [[1.0], [1.0]]  # the first, before the crash


def test_explain_with_examples_embeds_the_corpus_once_for_all_its_texts(tmp_path, monkeypatch):
    from blackbox_explain.dataset import neighbours

    calls: list[str] = []

    class Counting:
        fingerprint = "counting-embedder"

        def encode(self, texts):
            calls.extend(texts)
            return [[len(t), t.count("o") + 1.0] for t in texts]

    monkeypatch.setattr(neighbours, "load_embedder", lambda _: Counting())
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text('"good food"\n"bad food"\n"rude staff"\n"slow service"\n')
    argv = ["explain", "-m", "example", "--no-progress", "--examples", str(corpus)]
    assert main([*argv, "-t", "great food", "-t", "cold soup"]) == 0
    assert sorted(calls) == sorted(
        ["good food", "bad food", "rude staff", "slow service", "great food", "cold soup"]
    )


def test_explain_many_texts_with_examples_keeps_them(tmp_path, monkeypatch):
    # --jsonl with --json went to the dataset engine, which dropped --examples silently
    from blackbox_explain.dataset import neighbours

    class Lengths:
        fingerprint = "lengths"

        def encode(self, texts):
            return [[len(t), 1.0] for t in texts]

    monkeypatch.setattr(neighbours, "load_embedder", lambda _: Lengths())
    corpus, texts, out = (tmp_path / name for name in ("corpus.jsonl", "in.jsonl", "out.jsonl"))
    corpus.write_text('"good food"\n"rude staff"\n')
    texts.write_text('"great food"\n"cold soup"\n')
    argv = ["explain", "-m", "example", "--no-progress", "--jsonl", str(texts), "--json", str(out)]
    assert main([*argv, "--examples", str(corpus)]) == 0
    kept = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(kept) == 2 and all(len(e["meta"]["examples"]["examples"]) == 2 for e in kept)


@pytest.mark.parametrize(
    ("argv", "kind"),
    [
        (["explain", "-m", "example", "-t", "good film", "-t", "a bad plot"], "explanation"),
        (
            ["counterfactual", "-m", "example", "-t", "good film", "-t", "a bad plot"],
            "counterfactuals",
        ),
    ],
)
def test_json_dash_writes_json_alone_to_standard_output(tmp_path, monkeypatch, capsys, argv, kind):
    monkeypatch.chdir(tmp_path)
    assert main([*argv, "--no-progress", "--json", "-"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert len(lines) == 2, captured.out  # one JSON line per text, nothing else
    assert [
        json.loads(line)["text" if kind == "explanation" else "original_text"] for line in lines
    ] == [
        "good film",
        "a bad plot",
    ]
    assert "wrote 2 " in captured.err and "to standard output" in captured.err
    assert not (tmp_path / "-").exists()


def test_json_dash_of_summarize_and_of_many_texts_at_once(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    texts = tmp_path / "in.jsonl"
    texts.write_text('"good film"\n"a bad plot"\n')
    results = tmp_path / "out.jsonl"
    assert main(["explain", "-m", "example", "--jsonl", str(texts), "--json", str(results)]) == 0
    capsys.readouterr()
    assert main(["summarize", str(results), "--json", "-"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert {row["word"] for row in summary["stats"]} >= {"good", "bad"}
    # many texts at once: each explanation's line on standard output as it finishes, the
    # terminal view on standard error, no file named "-"
    assert main(["explain", "-m", "example", "--jsonl", str(texts), "--json", "-"]) == 0
    captured = capsys.readouterr()
    streamed = [json.loads(line) for line in captured.out.splitlines()]
    assert sorted(e["text"] for e in streamed) == ["a bad plot", "good film"]
    saved = {
        json.loads(line)["text"]: json.loads(line) for line in results.read_text().splitlines()
    }
    for exp in streamed:
        assert exp["values"] == saved[exp["text"]]["values"]
    assert "2 explanation(s) in standard output" in captured.err
    assert "explanation of" in captured.err and not (tmp_path / "-").exists()
