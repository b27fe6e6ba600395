using TorchSharp;
using static TorchSharp.torch;

namespace Strix.Runtime;

/// <summary>Parses Ultralytics/Lightning device strings into a torch device.</summary>
public static class Devices
{
    /// <summary>
    /// "cpu"; "cuda" / "cuda:N" / "N" (Ultralytics' <c>device=0</c>); empty means CUDA 0 when available,
    /// else CPU. Multi-device lists are rejected (one process trains on one device).
    /// </summary>
    public static Device Parse(string? spec)
    {
        var s = (spec ?? "").Trim().ToLowerInvariant();
        if (s.Length == 0) return cuda.is_available() ? new Device(DeviceType.CUDA, 0) : CPU;
        if (s == "cpu") return CPU;
        if (s.Contains(',')) throw new ArgumentException($"device={spec}: training on several devices in one process is not supported; pick one (e.g. device=0)");
        int index = 0;
        if (s == "cuda" || s == "gpu") index = 0;
        else if (s.StartsWith("cuda:") && int.TryParse(s[5..], out var i)) index = i;
        else if (int.TryParse(s, out var j)) index = j;
        else throw new ArgumentException($"device={spec} is not cpu, cuda, cuda:N or N");
        if (!cuda.is_available())
            throw new ArgumentException($"device={spec} asks for CUDA but it is not available (this build uses {(typeof(TorchSharp.torch).Assembly.GetName().Name)} with a CPU libtorch, or no GPU is visible); use device=cpu");
        int n = cuda.device_count();
        if (index < 0 || index >= n) throw new ArgumentException($"device={spec}: CUDA device {index} does not exist ({n} visible)");
        return new Device(DeviceType.CUDA, index);
    }
}
