from dataclasses import dataclass, field

import pytest

from mmgan.config import ConfigError, apply_overrides, from_dict, load_config, save_config, to_dict


@dataclass
class Optim:
    lr: float = 2e-4
    betas: tuple[float, float] = (0.0, 0.99)


@dataclass
class Run:
    steps: int = 100
    name: str = "run"
    device: str | None = None
    amp: bool = False
    optim: Optim = field(default_factory=Optim)
    lambdas: dict = field(default_factory=lambda: {"r1": 1.0})


def test_yaml_round_trip(tmp_path):
    cfg = Run(steps=7, optim=Optim(lr=1e-3, betas=(0.5, 0.9)), lambdas={"r1": 2.0, "style": 0.5})
    path = save_config(cfg, tmp_path / "run.yaml")
    assert load_config(Run, path) == cfg
    assert to_dict(cfg)["optim"]["betas"] == [0.5, 0.9]


def test_yaml_delta_keeps_defaults(tmp_path):
    (tmp_path / "delta.yaml").write_text("optim:\n  lr: 0.01\n")
    cfg = load_config(Run, tmp_path / "delta.yaml")
    assert cfg.optim.lr == 0.01 and cfg.steps == 100 and cfg.optim.betas == (0.0, 0.99)


def test_dotted_overrides_parse_yaml_values():
    cfg = apply_overrides(
        Run(), ["optim.lr=1e-3", "steps=5", "device=cuda", "amp=true", "optim.betas=[0.5, 0.9]"]
    )
    assert cfg.optim.lr == 1e-3 and cfg.steps == 5 and cfg.device == "cuda" and cfg.amp is True
    assert cfg.optim.betas == (0.5, 0.9)
    assert apply_overrides(Run(device="cpu"), ["device=null"]).device is None


@pytest.mark.parametrize(
    "override, message",
    [
        ("optim.lrr=1", "unknown config key 'optim.lrr'"),
        ("steps=fast", "steps: expected an integer"),
        ("amp=3", "amp: expected true/false"),
        ("steps", "must look like key.sub=value"),
        ("=3", "empty key"),
    ],
)
def test_bad_overrides_name_the_problem(override, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        apply_overrides(Run(), [override])


def test_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="config file not found"):
        load_config(Run, tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("steps: [1,\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(Run, tmp_path / "bad.yaml")
    with pytest.raises(ConfigError, match="expected a mapping"):
        from_dict(Run, {"optim": 3})


def test_atomic_writes_get_normal_permissions(tmp_path):
    import os

    from mmgan.utils import atomic_write_text

    path = atomic_write_text(tmp_path / "x.txt", "hello")
    mask = os.umask(0)
    os.umask(mask)
    assert (path.stat().st_mode & 0o777) == (0o666 & ~mask)


def test_overrides_into_a_dict_field_keep_its_other_keys():
    from mmgan.training.gan import GANTrainConfig

    base = GANTrainConfig()
    cfg = apply_overrides(base, ["lambdas.r1=10", "lambdas.imle=3"])
    assert cfg.lambdas == {**base.lambdas, "r1": 10, "imle": 3}
    assert base.lambdas["r1"] == 1.0  # the defaults are not touched
