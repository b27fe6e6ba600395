using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Strix.Models;

/// <summary>
/// Counts floating-point operations of a forward pass by observing every convolution and batch norm
/// on a probe input. Conventions follow the figures Ultralytics publishes (thop): a convolution costs
/// 2·k²·C_in/groups FLOPs per output element (transposed ones too), a linear layer 2·C_in, a batch norm 8 per element, nearest upsampling 2 per output
/// element; activations, pooling and the attention's matrix products (functional, not modules) are free. Counting at the true input size makes it exact for any size.
/// </summary>
public static class ModelProfiler
{
    const double BatchNormFlopsPerElement = 8.0, UpsampleFlopsPerElement = 2.0;

    /// <summary>GFLOPs of one forward pass of <paramref name="model"/> at batch 1, height × width.</summary>
    public static double GFlops(DetectionModel model, int height, int width)
    {
        double flops = 0;
        var hooks = new List<Action>();
        foreach (var m in model.modules())
        {
            if (m is Conv2d conv)
            {
                long perOut = conv.weight!.shape[1] * conv.weight.shape[2] * conv.weight.shape[3];
                var h = conv.register_forward_hook((_, _, output) => { flops += 2.0 * output.numel() * perOut; return output; });
                hooks.Add(h.remove);
            }
            else if (m is ConvTranspose2d tconv)
            {
                // Counted per output element from the input channels, as thop does (the published 12.8 GFLOPs of yolov8n-seg need it).
                long perOut = tconv.weight!.shape[0] / tconv.groups * tconv.weight.shape[2] * tconv.weight.shape[3];
                var h = tconv.register_forward_hook((_, _, output) => { flops += 2.0 * output.numel() * perOut; return output; });
                hooks.Add(h.remove);
            }
            else if (m is Linear fc)
            {
                // A classifier's last layer: 2·in per output, counted once per image (Ultralytics' 32-pixel probe scaled by
                // the area counts it (640/32)² times: its yolov8n-cls prints 4.4 GFLOPs at 640 where this counts 3.4).
                long perOut = fc.weight!.shape[1];
                var h = fc.register_forward_hook((_, _, output) => { flops += 2.0 * output.numel() * perOut; return output; });
                hooks.Add(h.remove);
            }
            else if (m is Upsample up)
            {
                var h = up.register_forward_hook((_, _, output) => { flops += UpsampleFlopsPerElement * output.numel(); return output; });
                hooks.Add(h.remove);
            }
            else if (m is BatchNorm2d bn)
            {
                var h = bn.register_forward_hook((_, _, output) => { flops += BatchNormFlopsPerElement * output.numel(); return output; });
                hooks.Add(h.remove);
            }
        }
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var _ = no_grad();
            var p = model.parameters().First();
            using var x = zeros(new long[] { 1, 3, height, width }, dtype: p.dtype, device: p.device);
            foreach (var t in model.call(x)) t.Dispose();
        }
        finally
        {
            foreach (var remove in hooks) remove();
            model.train(wasTraining);
        }
        return flops / 1e9;
    }
}
