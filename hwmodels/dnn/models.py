"""Model zoo: our own definitions of the networks the cost model is checked on.

No torchvision and no weights: estimation needs shapes only. Build on the meta device to
skip weight initialization (``with torch.device("meta"): m = resnet50()``);
:func:`build` does this for you.

``resnet50`` defaults to the original ResNet-50 (v1: stride 2 in the first 1x1 convolution
of a down-sampling bottleneck; He et al. 2016), 3.86 G MACs, the variant HAWQ-V3's figures
(247 GBOPs at W8A8) correspond to; ``variant="v1.5"`` puts the stride in the 3x3
convolution (torchvision's, 4.09 G MACs).
"""

from __future__ import annotations

from torch import nn

__all__ = ["ZOO", "build", "mlp", "mobilenet_v2", "resnet18", "resnet50", "small_cnn"]


class _Basic(nn.Module):
    expansion = 1

    def __init__(self, cin: int, width: int, stride: int, v15: bool = True):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, width, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU()
        self.downsample = None
        if stride != 1 or cin != width:
            self.downsample = nn.Sequential(nn.Conv2d(cin, width, 1, stride, bias=False),
                                            nn.BatchNorm2d(width))

    def forward(self, x):
        idt = x if self.downsample is None else self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(y)) + idt)


class _Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin: int, width: int, stride: int, v15: bool = True):
        super().__init__()
        cout = width * 4
        s1, s3 = (1, stride) if v15 else (stride, 1)
        self.conv1 = nn.Conv2d(cin, width, 1, s1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, s3, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                            nn.BatchNorm2d(cout))

    def forward(self, x):
        idt = x if self.downsample is None else self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        return self.relu(self.bn3(self.conv3(y)) + idt)


class ResNet(nn.Module):
    """ImageNet ResNet (He et al. 2016), module names as torchvision's.

    Parameters
    ----------
    block : type
        ``_Basic`` or ``_Bottleneck``.
    depths : sequence of int
        Blocks per stage.
    num_classes : int
        Classifier outputs.
    v15 : bool
        Stride in the 3x3 (True) or the first 1x1 (False) of a bottleneck.
    """

    def __init__(self, block, depths, num_classes: int = 1000, v15: bool = True):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin = 64
        for i, (width, depth) in enumerate(zip((64, 128, 256, 512), depths, strict=True)):
            blocks = []
            for j in range(depth):
                stride = 2 if (j == 0 and i > 0) else 1
                blocks.append(block(cin, width, stride, v15))
                cin = width * block.expansion
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.flatten(self.avgpool(x)))


def resnet18(num_classes: int = 1000) -> nn.Module:
    """ResNet-18: 1.81 G MACs, 11.7 M parameters at 224x224."""
    return ResNet(_Basic, (2, 2, 2, 2), num_classes)


def resnet50(num_classes: int = 1000, variant: str = "v1") -> nn.Module:
    """ResNet-50, ``variant`` ``"v1"`` (3.86 G MACs, default) or ``"v1.5"`` (4.09 G MACs)."""
    if variant not in ("v1", "v1.5"):
        raise ValueError(f"resnet50 variant must be 'v1' or 'v1.5', not {variant!r}")
    return ResNet(_Bottleneck, (3, 4, 6, 3), num_classes, v15=variant == "v1.5")


class _InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, expand: int):
        super().__init__()
        hidden = cin * expand
        layers: list[nn.Module] = []
        if expand != 1:
            layers += [nn.Conv2d(cin, hidden, 1, bias=False), nn.BatchNorm2d(hidden),
                       nn.ReLU6()]
        layers += [nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False),
                   nn.BatchNorm2d(hidden), nn.ReLU6(),
                   nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout)]
        self.conv = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.conv(x)
        return x + y if self.residual else y


class MobileNetV2(nn.Module):
    """MobileNetV2 (Sandler et al. 2018), width 1.0: 0.30 G MACs, 3.5 M parameters."""

    # (expansion t, channels c, repeats n, stride s), Sandler et al. 2018, table 2.
    SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                (6, 160, 3, 2), (6, 320, 1, 1))

    def __init__(self, num_classes: int = 1000):
        super().__init__()
        feats: list[nn.Module] = [nn.Sequential(nn.Conv2d(3, 32, 3, 2, 1, bias=False),
                                                nn.BatchNorm2d(32), nn.ReLU6())]
        cin = 32
        for t, c, n, s in self.SETTINGS:
            for i in range(n):
                feats.append(_InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        feats.append(nn.Sequential(nn.Conv2d(cin, 1280, 1, bias=False),
                                   nn.BatchNorm2d(1280), nn.ReLU6()))
        self.features = nn.Sequential(*feats)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, num_classes))

    def forward(self, x):
        return self.classifier(self.flatten(self.pool(self.features(x))))


def mobilenet_v2(num_classes: int = 1000) -> nn.Module:
    """MobileNetV2 width 1.0 for 224x224 inputs."""
    return MobileNetV2(num_classes)


class SmallCNN(nn.Module):
    """A small CNN for 1x28x28 inputs: conv3x3(16) - pool - conv3x3(32) - pool - fc(10)."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, 1, 1)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(16, 32, 3, 1, 1)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(32 * 7 * 7, num_classes)

    def forward(self, x):
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        return self.fc(self.flatten(x))


def small_cnn(num_classes: int = 10) -> nn.Module:
    """:class:`SmallCNN` (input 1x28x28)."""
    return SmallCNN(num_classes)


def mlp(in_features: int = 784, hidden: tuple[int, ...] = (256, 128),
        num_classes: int = 10) -> nn.Module:
    """A multilayer perceptron on flattened inputs (default 784-256-128-10, input 1x784)."""
    mods: list[nn.Module] = []
    cin = in_features
    for h in hidden:
        mods += [nn.Linear(cin, h), nn.ReLU()]
        cin = h
    mods.append(nn.Linear(cin, num_classes))
    return nn.Sequential(*mods)


#: name -> (constructor, default input shape (N, C, H, W) or (N, features))
ZOO = {
    "resnet18": (resnet18, (1, 3, 224, 224)),
    "resnet50": (resnet50, (1, 3, 224, 224)),
    "mobilenet_v2": (mobilenet_v2, (1, 3, 224, 224)),
    "small_cnn": (small_cnn, (1, 1, 28, 28)),
    "mlp": (mlp, (1, 784)),
}


def build(name: str, meta: bool = True) -> tuple[nn.Module, tuple[int, ...]]:
    """A zoo model and its default input shape.

    Parameters
    ----------
    name : str
        One of :data:`ZOO`.
    meta : bool
        Build on the meta device (no weight memory or initialization).

    Returns
    -------
    model : torch.nn.Module
    input_shape : tuple of int
    """
    import torch

    if name not in ZOO:
        raise ValueError(f"model must be one of {', '.join(sorted(ZOO))}, not {name!r}")
    ctor, shape = ZOO[name]
    if meta:
        with torch.device("meta"):
            return ctor(), shape
    return ctor(), shape
