using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Strix.Nn;

/// <summary>
/// The mask prototypes of YOLACT-style instance segmentation, as YOLOv8-seg builds them: from the stride-8 map, a 3×3
/// Conv, a learned 2× upsampling (a 2×2 transposed convolution, stride 2), another 3×3 Conv and a 1×1 Conv to
/// <c>c2</c> prototype masks at stride 4. Each detection's mask is its coefficients times these prototypes.
/// </summary>
public sealed class Proto : Module<Tensor, Tensor>
{
    public Conv cv1, cv2, cv3;
    public ConvTranspose2d upsample;

    /// <summary>c1 input channels, c_ hidden channels, c2 prototypes (Ultralytics' defaults: 256 hidden, 32 prototypes).</summary>
    public Proto(int c1, int c_ = 256, int c2 = 32) : base(nameof(Proto))
    {
        cv1 = new Conv(c1, c_, 3);
        upsample = ConvTranspose2d(c_, c_, 2, stride: 2, padding: 0, bias: true);
        cv2 = new Conv(c_, c_, 3);
        cv3 = new Conv(c_, c2);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var h1 = cv1.call(x);
        using var up = Autocast.ConvTranspose2d(upsample, h1);
        using var h2 = cv2.call(up);
        return cv3.call(h2);
    }
}
