"""Frozen configuration dataclasses, named presets, JSON round trip and overrides.

A `Config` is a task name, a model config (architecture: the autoencoder's `ModelConfig`
for object discovery, `SetPredictionModelConfig` for set prediction) plus a `TrainConfig`
(data and optimisation). Presets follow the paper's appendix; `tetrominoes_cpu` and
`clevr_set_prediction_cpu` are the variants made to train in minutes on a 2-core CPU.
"""

import dataclasses
import json
import numbers

SLOT_INITS = ("gaussian", "learned")
SLOT_ENCODERS = ("slot_attention", "slot_mlp")
PRECISIONS = ("auto", "float32", "bfloat16")
OBJECT_DISCOVERY = "object_discovery"
SET_PREDICTION = "set_prediction"


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Architecture of the Slot Attention autoencoder (see models/autoencoder.py)."""

    resolution: tuple = (35, 35)
    num_slots: int = 4
    slot_size: int = 64
    num_iterations: int = 3
    mlp_hidden_size: int = 128
    encoder_channels: tuple = (32, 32, 32, 32)
    encoder_kernel_size: int = 5
    encoder_mlp_size: int = 64
    decoder_initial_resolution: tuple = (35, 35)
    decoder_channels: tuple = (32, 32, 32)
    decoder_strides: tuple = (1, 1, 1)
    decoder_kernel_size: int = 5
    slot_encoder: str = "slot_attention"  # or "slot_mlp", the paper's Slot MLP baseline.
    # Research variants, not the paper's model; the defaults are the paper's. None trained
    # better on the CPU recipe (measured effects: keras_slots.config_flags.VARIANTS).
    decoder_position_scale: float = 1.0
    decoder_fourier_bands: int = 0
    slot_init: str = "gaussian"
    implicit_grad: bool = False

    def __post_init__(self):
        _require_positive(self, "num_slots", "slot_size", "num_iterations", "mlp_hidden_size",
                          "encoder_kernel_size", "encoder_mlp_size", "decoder_kernel_size",
                          "decoder_position_scale")
        _require_positive_sizes(self, "resolution", "encoder_channels",
                                "decoder_initial_resolution", "decoder_channels",
                                "decoder_strides")
        _require_positive(self, "decoder_fourier_bands", or_zero=True)
        _require_choice(self, "slot_init", SLOT_INITS)
        _require_choice(self, "slot_encoder", SLOT_ENCODERS)
        if len(self.decoder_strides) != len(self.decoder_channels):
            raise ValueError(f"model.decoder_strides {tuple(self.decoder_strides)} and "
                             f"model.decoder_channels {tuple(self.decoder_channels)} differ "
                             f"in length")
        factor = 1
        for stride in self.decoder_strides:
            factor *= stride
        decoded = tuple(size * factor for size in self.decoder_initial_resolution)
        if decoded != tuple(self.resolution):
            raise ValueError(
                f"the decoder produces {decoded} images (initial resolution "
                f"{tuple(self.decoder_initial_resolution)} x strides "
                f"{tuple(self.decoder_strides)}), but resolution is {tuple(self.resolution)}")


@dataclasses.dataclass(frozen=True)
class SetPredictionModelConfig:
    """Architecture of the set-prediction model (see models/set_prediction.py).

    Defaults are the paper's CLEVR property-prediction model: 4 x Conv 5x5 64 with strides
    1, 2, 2, 1 (128x128 -> 32x32 features), 10 slots of size 64, 3 iterations, a per-slot
    head Dense(64, relu) -> Dense(19, sigmoid).
    """

    resolution: tuple = (128, 128)
    num_slots: int = 10
    slot_size: int = 64
    num_iterations: int = 3
    mlp_hidden_size: int = 128
    encoder_channels: tuple = (64, 64, 64, 64)
    encoder_kernel_size: int = 5
    encoder_strides: tuple = (1, 2, 2, 1)
    encoder_mlp_size: int = 64
    head_hidden_size: int = 64
    # Research variants (see ModelConfig); the defaults are the paper's.
    slot_init: str = "gaussian"
    implicit_grad: bool = False

    def __post_init__(self):
        _require_positive(self, "num_slots", "slot_size", "num_iterations", "mlp_hidden_size",
                          "encoder_kernel_size", "encoder_mlp_size", "head_hidden_size")
        _require_positive_sizes(self, "resolution", "encoder_channels", "encoder_strides")
        _require_choice(self, "slot_init", SLOT_INITS)
        if len(self.encoder_strides) != len(self.encoder_channels):
            raise ValueError(f"model.encoder_strides {tuple(self.encoder_strides)} and "
                             f"model.encoder_channels {tuple(self.encoder_channels)} differ "
                             f"in length")


# Task name -> the dataclass of its model section.
MODEL_CONFIGS = {OBJECT_DISCOVERY: ModelConfig, SET_PREDICTION: SetPredictionModelConfig}


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Data and optimisation settings of a training run.

    `precision` is "auto" (bfloat16 where the GPU or CPU computes it natively, else float32;
    see keras_slots.precision), "float32" or "bfloat16". Every `eval_every` steps the loop
    logs FG-ARI of the first `eval_examples` test scenes (0 turns it off).
    """

    dataset: str = "tetrominoes"
    batch_size: int = 64
    learning_rate: float = 4e-4
    warmup_steps: int = 10_000
    decay_rate: float = 0.5
    decay_steps: int = 100_000
    num_steps: int = 500_000
    checkpoint_every: int = 1000
    keep_checkpoints: int = 5
    log_every: int = 100
    image_every: int = 500
    precision: str = "auto"
    seed: int = 0
    eval_every: int = 1000
    eval_examples: int = 64
    # Fields added later keep defaults, so configs saved before them still load.
    shuffle: bool = True  # Shuffle file records per epoch (seeded by seed and epoch).
    data_dir: str = None  # Folder of the published files; None: the built-in generator.
    # Training steps run by one tf.function call (one host round trip); logging, evaluation,
    # image and checkpoint steps end a call, so it changes nothing but speed. On a 2-core
    # CPU (0.4-0.6 s steps) 10 steps per call were not measurably faster than 1
    # (scripts/benchmark.py), so 1 is the default; fast GPU steps may gain from more.
    steps_per_call: int = 1
    # Clip the summed gradients to this global norm before Adam (0: no clipping, the paper's).
    clip_norm: float = 0.0
    # The last cooldown_steps steps before num_steps scale the rate linearly down to 0 (0: no
    # cool-down, the paper's schedule).
    cooldown_steps: int = 0
    # Start from the weights of a trained model (run folder, export or .keras file) of the
    # same weight shapes instead of random ones (None: random, the paper's); read at step 0.
    init_from: str = None
    # How pictures became the model's inputs when that is not the dataset's own recipe, as
    # exports record it (source_size, crop, resize, ...; see DatasetInfo.preprocessing), e.g.
    # a model imported from the paper's code (keras_slots.released); None: the dataset's.
    preprocessing: dict = None

    def __post_init__(self):
        _require_positive(self, "batch_size", "learning_rate", "decay_rate", "decay_steps",
                          "num_steps", "checkpoint_every", "keep_checkpoints", "log_every",
                          "image_every", "steps_per_call")
        _require_positive(self, "warmup_steps", "eval_every", "eval_examples", "clip_norm",
                          "cooldown_steps", or_zero=True)
        _require_choice(self, "precision", PRECISIONS)
        if self.preprocessing is not None and not isinstance(self.preprocessing, dict):
            raise ValueError(f"train.preprocessing must be a dict or None, got "
                             f"{self.preprocessing!r}")


@dataclasses.dataclass(frozen=True)
class Config:
    """A whole run: the model, how it is trained, and the task (what the model learns).

    `task` is "object_discovery" (the autoencoder; configs saved before tasks existed have
    no task field and load as this) or "set_prediction"; it decides the model section's
    dataclass (MODEL_CONFIGS).
    """

    name: str
    model: ModelConfig
    train: TrainConfig
    task: str = OBJECT_DISCOVERY

    def __post_init__(self):
        if self.task not in MODEL_CONFIGS:
            raise ValueError(f"task must be one of {list(MODEL_CONFIGS)}, got {self.task!r}")
        if not isinstance(self.model, MODEL_CONFIGS[self.task]):
            raise ValueError(f"a {self.task} config needs a {MODEL_CONFIGS[self.task].__name__}"
                             f" model section, got {type(self.model).__name__}")

    def to_json(self):
        """Returns the config as an indented JSON string."""
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text):
        """Parses `to_json` output back into a Config (lists become tuples)."""
        data = json.loads(text)
        task = data.get("task", OBJECT_DISCOVERY)
        if task not in MODEL_CONFIGS:
            raise ValueError(f"unknown task {task!r}; expected one of {list(MODEL_CONFIGS)}")
        return cls(
            name=data["name"],
            model=_build(MODEL_CONFIGS[task], data["model"]),
            train=_build(TrainConfig, data["train"]),
            task=task,
        )

    def override(self, **changes):
        """Returns a copy with fields replaced; keys are `model.field` or `train.field`.

        Raises:
            ValueError: for an unknown field name.
        """
        model, train = {}, {}
        for key, value in changes.items():
            section, _, field = key.partition(".")
            target = {"model": (type(self.model), model),
                      "train": (TrainConfig, train)}.get(section)
            if target is None or field not in {f.name for f in dataclasses.fields(target[0])}:
                raise ValueError(f"unknown config field {key!r}")
            target[1][field] = tuple(value) if isinstance(value, list) else value
        return dataclasses.replace(
            self,
            model=dataclasses.replace(self.model, **model),
            train=dataclasses.replace(self.train, **train),
        )

    def differences(self, other):
        """Lists 'section.field: mine != theirs' for every field that differs from `other`."""
        if self.task != other.task:
            return [f"task: {other.task!r} != {self.task!r}"]
        mine, theirs = dataclasses.asdict(self), dataclasses.asdict(other)
        out = []
        for section in ("model", "train"):
            for key, value in mine[section].items():
                if value != theirs[section][key]:
                    out.append(f"{section}.{key}: {theirs[section][key]!r} != {value!r}")
        return out


def qualified(model_config, fields):
    """{"num_steps": 300, "num_slots": 5} -> {"train.num_steps": 300, "model.num_slots": 5}.

    Args:
        model_config: the run's model section (decides which model fields exist).
        fields: {field name: value}; names already qualified ("train.x") are kept.

    Raises:
        ValueError: for a name that is a field of neither section.
    """
    train = {f.name for f in dataclasses.fields(TrainConfig)}
    model = {f.name for f in dataclasses.fields(type(model_config))}
    out = {}
    for name, value in fields.items():
        if "." in name or name in train or name in model:
            section = "" if "." in name else "train." if name in train else "model."
            out[section + name] = value
        else:
            raise ValueError(f"{name!r} is not a config field of this preset (TrainConfig or "
                             f"{type(model_config).__name__})")
    return out


def _section(config):
    return "train" if isinstance(config, TrainConfig) else "model"


def _require_positive(config, *names, or_zero=False):
    """Raises ValueError naming the first field that is not a number > 0 (>= 0 if or_zero)."""
    for name in names:
        value = getattr(config, name)
        ok = (isinstance(value, numbers.Real) and not isinstance(value, bool)
              and (value >= 0 if or_zero else value > 0))
        if not ok:
            bound = "zero or positive" if or_zero else "positive"
            raise ValueError(f"{_section(config)}.{name} must be {bound}, got {value!r}")


def _require_positive_sizes(config, *names):
    """Raises ValueError naming the first field that is not a non-empty tuple of ints > 0."""
    for name in names:
        value = getattr(config, name)
        ok = (isinstance(value, (tuple, list)) and len(value) > 0
              and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value))
        if not ok:
            raise ValueError(f"{_section(config)}.{name} must be a tuple of positive integers, "
                             f"got {value!r}")


def _require_choice(config, name, choices):
    value = getattr(config, name)
    if value not in choices:
        raise ValueError(f"{_section(config)}.{name} must be one of {list(choices)}, "
                         f"got {value!r}")


def _build(cls, values):
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(values) - names
    if unknown:
        raise ValueError(f"unknown {cls.__name__} fields: {sorted(unknown)}")
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


_SMALL_IMAGES = ModelConfig()  # Multi-dSprites / Tetrominoes architecture of the paper.

PRESETS = {
    "clevr": Config(
        name="clevr",
        model=ModelConfig(
            resolution=(128, 128),
            num_slots=7,
            encoder_channels=(64, 64, 64, 64),
            decoder_initial_resolution=(8, 8),
            decoder_channels=(64, 64, 64, 64, 64),
            decoder_strides=(2, 2, 2, 2, 1),
        ),
        train=TrainConfig(dataset="clevr6"),
    ),
    "multi_dsprites": Config(
        name="multi_dsprites",
        model=dataclasses.replace(
            _SMALL_IMAGES, resolution=(64, 64), decoder_initial_resolution=(64, 64), num_slots=6
        ),
        train=TrainConfig(dataset="multi_dsprites_colored_on_grayscale"),
    ),
    "tetrominoes": Config(
        name="tetrominoes",
        model=_SMALL_IMAGES,
        train=TrainConfig(dataset="tetrominoes"),
    ),
    "objects_room": Config(
        name="objects_room",
        model=dataclasses.replace(
            _SMALL_IMAGES, resolution=(64, 64), decoder_initial_resolution=(64, 64), num_slots=7
        ),
        train=TrainConfig(dataset="objects_room"),
    ),
    # The paper's Tetrominoes architecture and Adam lr 4e-4 with a schedule for a 2-core CPU:
    # batch 16 (4x more updates per image than 64), a 500-step warm-up (the paper's 10k would
    # outlast the run), the learning rate halved every 5k steps instead of 100k, 5k steps;
    # FG-ARI of 128 test scenes every 500 steps. Precision is chosen per machine ("auto").
    "tetrominoes_cpu": Config(
        name="tetrominoes_cpu",
        model=_SMALL_IMAGES,
        train=TrainConfig(
            dataset="tetrominoes",
            batch_size=16,
            warmup_steps=500,
            decay_steps=5000,
            num_steps=5000,
            checkpoint_every=500,
            log_every=50,
            image_every=500,
            eval_every=500,
            eval_examples=128,
        ),
    ),
    # The paper's CLEVR set prediction (Table 2): 10 slots, batch 512, 150k steps, Adam lr
    # 4e-4 with a 1k-step warm-up and the rate halved every 50k steps; AP of 320 held-out
    # scenes every 1000 steps. Data: --data_dir with TFDS clevr:3.1.0 or CLEVR_v1.0.
    "clevr_set_prediction": Config(
        name="clevr_set_prediction",
        model=SetPredictionModelConfig(),
        train=TrainConfig(
            dataset="clevr",
            batch_size=512,
            learning_rate=4e-4,
            warmup_steps=1000,
            decay_rate=0.5,
            decay_steps=50_000,
            num_steps=150_000,
            eval_every=1000,
            eval_examples=320,
        ),
        task=SET_PREDICTION,
    ),
    # Set prediction sized for a shared 2-core CPU on the built-in renderer (rendering a
    # scene costs about as much as a training step on it): 64x64 inputs (16x16 features
    # after the strides 1, 2, 2, 1), 32-channel convs, batch 16, a 100-step warm-up, the
    # rate halved every 600 steps, 600 steps; AP of 320 test scenes every 200 steps.
    "clevr_set_prediction_cpu": Config(
        name="clevr_set_prediction_cpu",
        model=SetPredictionModelConfig(resolution=(64, 64), encoder_channels=(32, 32, 32, 32)),
        train=TrainConfig(
            dataset="clevr",
            batch_size=16,
            learning_rate=4e-4,
            warmup_steps=100,
            decay_rate=0.5,
            decay_steps=600,
            num_steps=600,
            checkpoint_every=200,
            log_every=20,
            image_every=200,
            eval_every=200,
            eval_examples=320,
        ),
        task=SET_PREDICTION,
    ),
}


def get_preset(name):
    """Returns the named preset Config.

    Raises:
        ValueError: naming the available presets when `name` is unknown.
    """
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    return PRESETS[name]
