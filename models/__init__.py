"""pjsim's model zoo: a name -> factory registry (``MODELS``) and ``load_model``.

Importing this package registers every zoo model.
"""

from models import alexnet, mobilenet, resnet, vgg, vit  # noqa: F401  (register the ImageNet zoo and vit_tiny)
from models import lenet  # noqa: F401  (registers lenet_300_100, lenet5)
from models import mnist_mlps  # noqa: F401  (registers mlp_1200_1200_dropout, mlp_800_800)
from models import gpt2  # noqa: F401  (registers gpt2_small)
from models import mlperf_tiny  # noqa: F401  (registers resnet8, ds_cnn, mobilenet_v1_025_vww, fc_autoencoder)
from models.registry import MODELS, ModelSpec, load_model, model_spec, register_model
from models.pretrained import load_checkpoint  # noqa: F401  (shipped trained checkpoints)

__all__ = ["MODELS", "ModelSpec", "load_model", "model_spec", "register_model"]
