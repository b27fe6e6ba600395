using System.Globalization;
using Microsoft.ML.OnnxRuntime;

namespace Strix.Export;

/// <summary>An ONNX Runtime execution provider Strix can put a session on.</summary>
public enum ExecutionProviderKind { Cpu, Cuda, TensorRT, OpenVino }

/// <summary>One provider of a session, in the order ONNX Runtime should try it (it falls back node by node).</summary>
/// <param name="Kind">The provider.</param>
/// <param name="DeviceId">CUDA / TensorRT: the GPU index.</param>
/// <param name="OpenVinoDevice">OpenVINO: its device type (CPU, GPU, NPU, AUTO …).</param>
public sealed record ExecutionProviderChoice(ExecutionProviderKind Kind, int DeviceId = 0, string? OpenVinoDevice = null)
{
    /// <summary>The provider's name as ONNX Runtime lists it.</summary>
    public string OrtName => ExecutionProviders.OrtName(Kind);
}

/// <summary>
/// Turns <c>device=</c> into ONNX Runtime execution providers, as a user of Ultralytics and ONNX Runtime expects:
/// <c>cpu</c>; <c>cuda</c>, <c>cuda:N</c> or <c>N</c> (CUDA on GPU N); <c>tensorrt[:N]</c> (TensorRT, with CUDA behind it
/// for the nodes TensorRT does not take); <c>openvino[:CPU|GPU|NPU|AUTO]</c>; <c>auto</c> (the best this build has:
/// TensorRT, then CUDA, then OpenVINO, then the CPU). The CPU provider is always last. A provider this build's
/// ONNX Runtime package lacks is an error naming the package to build with; only <c>auto</c> falls back silently.
/// </summary>
public static class ExecutionProviders
{
    /// <summary>The build switch that brings the CUDA and TensorRT providers (see Directory.Build.props).</summary>
    public const string GpuBuildSwitch = "-p:OnnxRuntimePackage=Microsoft.ML.OnnxRuntime.Gpu.Linux -p:OnnxRuntimeVersion=1.31.0 (Windows: Microsoft.ML.OnnxRuntime.Gpu.Windows)";
    /// <summary>Where the OpenVINO provider comes from.</summary>
    public const string OpenVinoBuildSwitch = "-p:OnnxRuntimePackage=Intel.ML.OnnxRuntime.OpenVino -p:OnnxRuntimeVersion=<its version> (Intel's package on nuget.org)";

    /// <summary>The providers this process's ONNX Runtime was built with.</summary>
    public static IReadOnlyList<string> Available => OrtEnv.Instance().GetAvailableProviders();

    public static string OrtName(ExecutionProviderKind kind) => kind switch
    {
        ExecutionProviderKind.Cpu => "CPUExecutionProvider",
        ExecutionProviderKind.Cuda => "CUDAExecutionProvider",
        ExecutionProviderKind.TensorRT => "TensorrtExecutionProvider",
        ExecutionProviderKind.OpenVino => "OpenVINOExecutionProvider",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>
    /// The providers for <paramref name="device"/> given the <paramref name="available"/> ones (ONNX Runtime's names),
    /// best first, the CPU last. Errors name the argument, what is missing and how to get it.
    /// </summary>
    public static IReadOnlyList<ExecutionProviderChoice> Plan(string? device, IReadOnlyCollection<string> available)
    {
        var d = (device ?? "").Trim().ToLowerInvariant();
        bool Has(ExecutionProviderKind k) => available.Contains(OrtName(k));
        var cpu = new ExecutionProviderChoice(ExecutionProviderKind.Cpu);
        if (d is "" or "cpu") return new[] { cpu };
        if (d == "auto")
        {
            if (Has(ExecutionProviderKind.TensorRT))
                return Has(ExecutionProviderKind.Cuda)
                    ? new[] { new ExecutionProviderChoice(ExecutionProviderKind.TensorRT), new ExecutionProviderChoice(ExecutionProviderKind.Cuda), cpu }
                    : new[] { new ExecutionProviderChoice(ExecutionProviderKind.TensorRT), cpu };
            if (Has(ExecutionProviderKind.Cuda)) return new[] { new ExecutionProviderChoice(ExecutionProviderKind.Cuda), cpu };
            if (Has(ExecutionProviderKind.OpenVino)) return new[] { new ExecutionProviderChoice(ExecutionProviderKind.OpenVino, OpenVinoDevice: "AUTO"), cpu };
            return new[] { cpu };
        }

        var (name, arg) = d.IndexOf(':') is var c and >= 0 ? (d[..c], d[(c + 1)..]) : (d, "");
        if (name.All(char.IsDigit) && arg == "") (name, arg) = ("cuda", name);
        if (d.Contains(','))
            throw new ArgumentException($"device={device}: an ONNX Runtime session runs on one device; give one GPU (e.g. device=cuda:0)");
        int Gpu()
        {
            if (arg == "") return 0;
            if (int.TryParse(arg, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id < 1024) return id;
            throw new ArgumentException($"device={device}: '{arg}' is not a GPU index");
        }
        switch (name)
        {
            case "cuda":
            case "gpu":
                Require(ExecutionProviderKind.Cuda, device, available);
                return new[] { new ExecutionProviderChoice(ExecutionProviderKind.Cuda, Gpu()), cpu };
            case "tensorrt":
            case "trt":
            {
                Require(ExecutionProviderKind.TensorRT, device, available);
                int id = Gpu();
                var trt = new ExecutionProviderChoice(ExecutionProviderKind.TensorRT, id);
                return Has(ExecutionProviderKind.Cuda) ? new[] { trt, new ExecutionProviderChoice(ExecutionProviderKind.Cuda, id), cpu } : new[] { trt, cpu };
            }
            case "openvino":
            {
                Require(ExecutionProviderKind.OpenVino, device, available);
                var ov = arg == "" ? "AUTO" : arg.ToUpperInvariant();
                return new[] { new ExecutionProviderChoice(ExecutionProviderKind.OpenVino, OpenVinoDevice: ov), cpu };
            }
            default:
                throw new ArgumentException($"device={device}: expected cpu, auto, cuda[:N] (or N), tensorrt[:N] or openvino[:CPU|GPU|NPU|AUTO] for an ONNX model");
        }
    }

    static void Require(ExecutionProviderKind kind, string? device, IReadOnlyCollection<string> available)
    {
        if (available.Contains(OrtName(kind))) return;
        var how = kind == ExecutionProviderKind.OpenVino ? OpenVinoBuildSwitch : GpuBuildSwitch;
        var what = kind switch { ExecutionProviderKind.Cuda => "CUDA", ExecutionProviderKind.TensorRT => "TensorRT", _ => "OpenVINO" };
        throw new NotSupportedException(
            $"device={device}: this build's ONNX Runtime has no {what} execution provider (it has: {string.Join(", ", available)}). " +
            $"Build with {how}; or use device=auto to take the best one present (falling back to the CPU).");
    }

    /// <summary>Adds the planned providers to <paramref name="options"/>, in order (the CPU one is ONNX Runtime's default, last).</summary>
    /// <param name="options">The session options to extend.</param>
    /// <param name="plan">From <see cref="Plan"/>.</param>
    /// <param name="tensorRtCache">TensorRT's engine cache folder (built engines are reused across runs).</param>
    /// <param name="half">TensorRT: allow fp16 kernels.</param>
    /// <param name="int8">TensorRT: allow int8 kernels (a QDQ model's scales are used).</param>
    public static void Apply(SessionOptions options, IReadOnlyList<ExecutionProviderChoice> plan, string tensorRtCache, bool half = false, bool int8 = false)
    {
        foreach (var p in plan)
        {
            switch (p.Kind)
            {
                case ExecutionProviderKind.Cuda:
                    options.AppendExecutionProvider_CUDA(p.DeviceId);
                    break;
                case ExecutionProviderKind.TensorRT:
                {
                    Directory.CreateDirectory(tensorRtCache);
                    using var trt = new OrtTensorRTProviderOptions();
                    trt.UpdateOptions(new Dictionary<string, string>
                    {
                        ["device_id"] = p.DeviceId.ToString(CultureInfo.InvariantCulture),
                        ["trt_fp16_enable"] = half ? "1" : "0",
                        ["trt_int8_enable"] = int8 ? "1" : "0",
                        ["trt_engine_cache_enable"] = "1",
                        ["trt_engine_cache_path"] = tensorRtCache,
                    });
                    options.AppendExecutionProvider_Tensorrt(trt);
                    break;
                }
                case ExecutionProviderKind.OpenVino:
                    options.AppendExecutionProvider_OpenVINO(p.OpenVinoDevice ?? "AUTO");
                    break;
                case ExecutionProviderKind.Cpu:
                    break;
            }
        }
    }
}
