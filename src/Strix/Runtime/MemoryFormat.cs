using TorchSharp;
using static TorchSharp.torch;

namespace Strix.Runtime;

/// <summary>
/// torch's <c>channels_last</c> memory format, which TorchSharp's API lacks: a 4-D tensor keeps its
/// logical shape <c>[N, C, H, W]</c> but is stored as <c>[N, H, W, C]</c>. Convolutions given such an
/// input run oneDNN's NHWC kernels and return channels-last outputs, so the layout flows through the
/// network. Measured on the quick-start recipe (yolov8n, batch 16, imgsz 160, 2 CPU threads): 9–13% less
/// wall and CPU time per synthetic step (bench <c>train … channels_last=true</c>), 18% less CPU over the
/// whole 20-epoch run (bench/results/train-step-profile.json). Values are the same as with
/// NCHW up to float rounding; views that merge H and W (<c>view(b, c, -1)</c>) still work.
/// </summary>
public static class MemoryFormat
{
    /// <summary>
    /// Whether model input on <paramref name="device"/> should be channels-last: on the CPU, where oneDNN's NHWC kernels
    /// are faster; CUDA keeps NCHW (not measured here). The one rule for training, validation and prediction.
    /// </summary>
    public static bool PreferredOn(Device device) => device.type == DeviceType.CPU;

    /// <summary>A channels-last copy of a 4-D tensor (the tensor itself when it already is one or is not 4-D).</summary>
    public static Tensor ToChannelsLast(Tensor x)
    {
        if (x.dim() != 4 || IsChannelsLast(x)) return x.alias();
        using var nhwc = x.permute(0, 2, 3, 1);
        using var packed = nhwc.contiguous();
        return packed.permute(0, 3, 1, 2);
    }

    /// <summary>True when a 4-D tensor is stored densely in N, H, W, C order.</summary>
    public static bool IsChannelsLast(Tensor x)
    {
        if (x.dim() != 4) return false;
        var s = x.stride();
        long c = x.shape[1], h = x.shape[2], w = x.shape[3];
        return s[1] == 1 && s[3] == c && s[2] == c * w && (x.shape[0] == 1 || s[0] == c * h * w) && c > 1;
    }
}
