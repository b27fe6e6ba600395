using static TorchSharp.torch;

namespace Strix;

/// <summary>Parses Ultralytics-style device strings: <c>cpu</c>, <c>cuda</c>, <c>cuda:1</c>, <c>0</c>, <c>1</c>.</summary>
public static class Devices
{
    public static Device Parse(string? device)
    {
        var d = (device ?? "").Trim().ToLowerInvariant();
        if (d is "" or "cpu") return CPU;
        if (d == "cuda") d = "cuda:0";
        if (int.TryParse(d, out var idx)) d = $"cuda:{idx}";
        if (d.StartsWith("cuda:"))
        {
            if (!cuda.is_available())
                throw new NotSupportedException($"device '{device}' requested but CUDA is not available (this build uses the {(TorchSharpPackageIsCpu ? "TorchSharp-cpu" : "TorchSharp")} package; build with -p:TorchSharpPackage=TorchSharp-cuda-linux for GPUs)");
            return new Device(d);
        }
        if (d == "mps") throw new NotSupportedException("device 'mps' is not supported by TorchSharp");
        throw new ArgumentException($"unknown device '{device}' (expected cpu, cuda, cuda:N or N)");
    }

    static bool TorchSharpPackageIsCpu => !cuda.is_available();
}
