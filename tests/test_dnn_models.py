"""Tracer, YAML layer lists, model zoo and the HAWQ-V3 published model sizes / BOPs."""

import pytest
import torch
import yaml
from torch import nn

from bitsmith.hwmodels.dnn import (
    Layer,
    UnsupportedLayerError,
    layers_from_list,
    layers_to_list,
    trace_model,
)
from bitsmith.hwmodels.dnn.models import ZOO, build, small_cnn


def _trace(name):
    model, shape = build(name)
    return trace_model(model, torch.zeros(shape, device="meta"))


@pytest.fixture(scope="module")
def zoo_layers():
    return {name: _trace(name) for name in ZOO}


def test_small_cnn_hand_counted():
    # conv1: 28*28 outputs x 16 ch x (1*3*3); conv2: 14*14 x 32 x (16*3*3); fc: 1568 x 10.
    layers = trace_model(small_cnn(), (1, 1, 28, 28))
    assert [la.name for la in layers] == ["conv1", "conv2", "fc"]
    assert [la.macs for la in layers] == [28 * 28 * 16 * 9, 14 * 14 * 32 * 144, 1568 * 10]
    assert [la.params for la in layers] == [16 * 9, 32 * 144, 15680]
    assert [la.input_elems for la in layers] == [784, 16 * 14 * 14, 1568]
    assert [la.output_elems for la in layers] == [16 * 784, 32 * 196, 10]


@pytest.mark.parametrize("name, n_layers, macs, params", [
    # Reference counts of the standard architectures (224x224, conv + FC weights only):
    # ResNet-18 1.814 G MACs / 11.68 M; ResNet-50 v1 3.858 G / 25.50 M; MobileNetV2
    # 300.8 M / 3.47 M (Sandler et al. 2018 report 300 M MACs, 3.4 M parameters).
    ("resnet18", 21, 1_814_073_344, 11_678_912),
    ("resnet50", 54, 3_857_973_248, 25_502_912),
    ("mobilenet_v2", 53, 300_774_272, 3_469_760),
    ("mlp", 3, 784 * 256 + 256 * 128 + 128 * 10, 784 * 256 + 256 * 128 + 128 * 10),
])
def test_zoo_counts(zoo_layers, name, n_layers, macs, params):
    layers = zoo_layers[name]
    assert len(layers) == n_layers
    assert sum(la.macs for la in layers) == macs
    assert sum(la.params for la in layers) == params


def test_resnet50_v15_has_more_macs():
    with torch.device("meta"):
        from bitsmith.hwmodels.dnn.models import resnet50
        m = resnet50(variant="v1.5")
    layers = trace_model(m, torch.zeros((1, 3, 224, 224), device="meta"))
    assert sum(la.macs for la in layers) == 4_089_184_256  # torchvision resnet50: 4.09 G


def test_meta_and_real_trace_agree():
    torch.manual_seed(0)
    real = trace_model(small_cnn(), torch.randn(1, 1, 28, 28))
    assert real == trace_model(small_cnn(), (1, 1, 28, 28))


def test_yaml_layer_list_equals_trace(zoo_layers):
    from pathlib import Path
    doc = yaml.safe_load(Path("configs/dnn/small_cnn_layers.yaml").read_text())
    assert layers_from_list(doc["layers"]) == zoo_layers["small_cnn"]
    for name in ("resnet50", "mobilenet_v2"):
        text = yaml.safe_dump(layers_to_list(zoo_layers[name]))
        assert layers_from_list(yaml.safe_load(text)) == zoo_layers[name]


def test_untraced_products_named():
    # Refused by name: a transposed convolution, a matrix-vector product, an LSTM (its
    # kernel runs below FlopCounterMode too).
    with pytest.raises(UnsupportedLayerError,
                       match=r"untraced operations: conv_transpose2d in '1\.conv_transpose2d'"):
        trace_model(nn.Sequential(nn.Conv2d(3, 8, 3), nn.ConvTranspose2d(8, 4, 3)),
                    (1, 3, 8, 8))
    with pytest.raises(UnsupportedLayerError, match=r"untraced operations: LSTM in '1'"):
        trace_model(nn.Sequential(nn.Linear(8, 8), nn.LSTM(8, 8)), (1, 4, 8))

    class Raw(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(16, 16)

        def forward(self, x):
            y = self.fc(x)
            z = torch.mv(self.fc.weight, y[0]) if self.mv else torch.ops.aten.mm(y, y.T)
            return y + z.sum()

    raw = Raw()
    raw.mv = True
    with pytest.raises(UnsupportedLayerError, match=r"untraced operations: mv in 'mv'"):
        trace_model(raw, (1, 16))
    # A direct aten call bypasses the tracer; the FlopCounterMode check catches it.
    raw.mv = False
    with pytest.raises(UnsupportedLayerError,
                       match=r"traced 256 MACs but FlopCounterMode counts 272 \(batch 1\): "
                             r"some products are untraced; FlopCounterMode by op: "
                             r"aten\.addmm 256 MACs, aten\.mm 16 MACs"):
        trace_model(raw, (1, 16))


def test_multihead_attention_traced():
    class Mha(nn.Module):
        def __init__(self, need_weights):
            super().__init__()
            self.mha = nn.MultiheadAttention(16, 2, batch_first=True)
            self.need_weights = need_weights

        def forward(self, x):
            return self.mha(x, x, x, need_weights=self.need_weights)[0]

    for nw in (True, False):       # bmm path / scaled_dot_product_attention path
        layers = trace_model(Mha(nw), (2, 5, 16))
        assert [(la.name, la.kind, la.macs) for la in layers] == [
            ("mha.q_proj", "linear", 5 * 16 * 16), ("mha.k_proj", "linear", 5 * 16 * 16),
            ("mha.v_proj", "linear", 5 * 16 * 16), ("mha.qk", "matmul", 2 * 5 * 8 * 5),
            ("mha.av", "matmul", 2 * 5 * 5 * 8), ("mha.out_proj", "linear", 5 * 16 * 16)]


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
def test_dilation_same_padding_conv1d_and_subclasses():
    class QConv(nn.Conv2d):      # a quantization-aware-training style wrapper
        pass

    model = nn.Sequential(QConv(3, 8, 3, dilation=2), nn.Conv2d(8, 8, 4, padding="same"))
    a, b = trace_model(model, (2, 3, 16, 16))
    assert a.dilation == (2, 2) and a.out_size == (12, 12)
    assert a.macs == 12 * 12 * 8 * 3 * 9
    # 'same' with an even kernel pads 3 in total (1 + 2): asymmetric, kept in out_hw.
    assert b.out_size == (12, 12) and b.macs == 144 * 8 * 8 * 16
    (c,) = trace_model(nn.Sequential(nn.Conv1d(4, 6, 5, stride=2, padding=2)), (1, 4, 40))
    assert c.kind == "conv1d" and c.out_size == (20, 1) and c.macs == 20 * 6 * 4 * 5


@pytest.mark.parametrize("entry, match", [
    ({"name": "x", "kind": "conv3d"}, r"layers\[0\]: layer 'x' kind must be one of conv1d, conv2d"),
    ({"name": "x", "kind": "conv2d", "in_channels": 3}, r"needs key 'out_channels'"),
    ({"name": "x", "kind": "linear", "in_features": 4, "out_features": 2, "foo": 1},
     r"unknown key 'foo'"),
    ({"name": "x", "kind": "conv2d", "in_channels": 3, "out_channels": 4, "kernel": 5,
      "in_size": 3}, r"output must be at least 1x1"),
    ({"name": "x", "kind": "conv2d", "in_channels": 3, "out_channels": 4, "kernel": 3,
      "in_size": 8, "groups": 2}, r"groups \(2\) must divide in_channels \(3\)"),
])
def test_layer_list_errors(entry, match):
    with pytest.raises(ValueError, match=match):
        layers_from_list([entry])


def test_linear_on_sequence_counts_tokens():
    layers = trace_model(nn.Sequential(nn.Linear(16, 32)), (1, 10, 16))
    assert layers == (Layer("0", "linear", 16, 32, in_size=(10, 1), bias=True),)
    assert layers[0].macs == 10 * 16 * 32


def _hawq(layers, b):
    """HAWQ-V3 convention: body at (b, b); first conv and last FC at W8A8 (the input image
    is 8-bit); BOPs = MACs * bw * ba; size = conv + FC weights at bw bits (batch norm
    folded, biases ignored), MB = 2^20 bytes."""
    bits = [8 if i in (0, len(layers) - 1) else b for i in range(len(layers))]
    bops = sum(la.macs * w * w for la, w in zip(layers, bits, strict=True))
    size = sum(la.params * w for la, w in zip(layers, bits, strict=True)) / 8 / 2**20
    return size, bops / 1e9


@pytest.mark.parametrize("name, b, size_mb, gbops", [
    # HAWQ-V3 model zoo (Yao et al., ICML 2021; HARDWARE_FACTS.md "DNN accelerators").
    ("resnet18", 8, 11.1, 116),
    ("resnet18", 4, 5.8, 34),
    ("resnet50", 8, 24.5, 247),
    ("resnet50", 4, 13.1, 67),
])
def test_hawq_v3_size_and_bops(zoo_layers, name, b, size_mb, gbops):
    size, bops = _hawq(zoo_layers[name], b)
    # Ours: 11.14 / 5.82 / 24.32 / 13.14 MB and 116.1 / 34.71 / 246.9 / 67.49 GBOPs. The
    # ResNet-50 W8A8 size is 0.7% below 24.5 and ResNet-18 W4A4 BOPs 2% above 34 (the
    # published figures are not rounded one way: see hwmodels/dnn/README.md).
    assert size == pytest.approx(size_mb, rel=0.01)
    assert bops == pytest.approx(gbops, rel=0.025)


def test_hawq_uniform_w4a4_misses_without_first_last_convention(zoo_layers):
    # Without keeping the first and last layers at 8 bits ResNet-18 W4A4 would be
    # 29.0 GBOPs and 5.57 MB: the published 34 / 5.8 need the convention.
    layers = zoo_layers["resnet18"]
    bops = sum(la.macs * 16 for la in layers) / 1e9
    assert abs(bops - 34) > 4
