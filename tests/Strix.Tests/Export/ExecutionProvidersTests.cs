using Strix.Export;
using static Strix.Export.ExecutionProviderKind;

namespace Strix.Tests.Export;

public class ExecutionProvidersTests
{
    const string CpuEp = "CPUExecutionProvider", CudaEp = "CUDAExecutionProvider", TrtEp = "TensorrtExecutionProvider", OvEp = "OpenVINOExecutionProvider";
    static readonly string[] CpuOnly = { CpuEp };
    static readonly string[] Gpu = { TrtEp, CudaEp, CpuEp };

    static (ExecutionProviderKind, int)[] Kinds(IReadOnlyList<ExecutionProviderChoice> plan) => plan.Select(p => (p.Kind, p.DeviceId)).ToArray();

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("cpu")]
    [InlineData(" CPU ")]
    public void Cpu_and_no_device_run_on_the_cpu(string? device)
    {
        Assert.Equal(new[] { (Cpu, 0) }, Kinds(ExecutionProviders.Plan(device, Gpu)));
    }

    [Fact]
    public void Gpu_devices_map_to_cuda_or_tensorrt_with_the_cpu_last()
    {
        Assert.Equal(new[] { (Cuda, 0), (Cpu, 0) }, Kinds(ExecutionProviders.Plan("cuda", Gpu)));
        Assert.Equal(new[] { (Cuda, 1), (Cpu, 0) }, Kinds(ExecutionProviders.Plan("cuda:1", Gpu)));
        Assert.Equal(new[] { (Cuda, 2), (Cpu, 0) }, Kinds(ExecutionProviders.Plan("2", Gpu)));   // Ultralytics' device=2
        // TensorRT keeps CUDA behind it for the nodes it does not take, on the same GPU.
        Assert.Equal(new[] { (TensorRT, 1), (Cuda, 1), (Cpu, 0) }, Kinds(ExecutionProviders.Plan("tensorrt:1", Gpu)));
        Assert.Equal(new[] { (TensorRT, 0), (Cpu, 0) }, Kinds(ExecutionProviders.Plan("trt", new[] { TrtEp, CpuEp })));
        var ov = ExecutionProviders.Plan("openvino:gpu", new[] { OvEp, CpuEp });
        Assert.Equal((OpenVino, "GPU"), (ov[0].Kind, ov[0].OpenVinoDevice));
        Assert.Equal("AUTO", ExecutionProviders.Plan("openvino", new[] { OvEp, CpuEp })[0].OpenVinoDevice);
    }

    [Fact]
    public void Auto_takes_the_best_provider_present_and_falls_back_to_the_cpu()
    {
        Assert.Equal(new[] { (TensorRT, 0), (Cuda, 0), (Cpu, 0) }, Kinds(ExecutionProviders.Plan("auto", Gpu)));
        Assert.Equal(new[] { (Cuda, 0), (Cpu, 0) }, Kinds(ExecutionProviders.Plan("auto", new[] { CudaEp, CpuEp })));
        Assert.Equal(OpenVino, ExecutionProviders.Plan("auto", new[] { OvEp, CpuEp })[0].Kind);
        Assert.Equal(new[] { (Cpu, 0) }, Kinds(ExecutionProviders.Plan("auto", CpuOnly)));
    }

    [Fact]
    public void A_provider_the_build_lacks_is_an_error_naming_the_package_never_a_silent_cpu_run()
    {
        var e = Assert.Throws<NotSupportedException>(() => ExecutionProviders.Plan("cuda:0", CpuOnly));
        Assert.Contains("device=cuda:0", e.Message);
        Assert.Contains("no CUDA execution provider", e.Message);
        Assert.Contains("Microsoft.ML.OnnxRuntime.Gpu.Linux", e.Message);
        Assert.Contains("device=auto", e.Message);
        Assert.Contains("TensorRT", Assert.Throws<NotSupportedException>(() => ExecutionProviders.Plan("tensorrt", new[] { CudaEp, CpuEp })).Message);
        Assert.Contains("Intel.ML.OnnxRuntime.OpenVino", Assert.Throws<NotSupportedException>(() => ExecutionProviders.Plan("openvino", CpuOnly)).Message);
    }

    [Theory]
    [InlineData("cuda:x", "'x' is not a GPU index")]
    [InlineData("0,1", "one device")]
    [InlineData("mps", "expected cpu, auto")]
    public void Bad_devices_are_named(string device, string message)
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => ExecutionProviders.Plan(device, Gpu));
        Assert.Contains($"device={device}", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void This_build_has_the_cpu_provider_and_a_session_opens_on_auto_and_cpu_but_not_cuda()
    {
        Assert.Contains(CpuEp, ExecutionProviders.Available);
        var model = TestPaths.Fixture("ultralytics", "tiny_yolov8.onnx");
        foreach (var device in new[] { "cpu", "auto" })
        {
            using var b = OnnxRuntimeBackend.Open(model, new OnnxRuntimeOptions { Device = device });
            Assert.Equal(CpuEp, b.Providers[^1]);
        }
        if (!ExecutionProviders.Available.Contains(CudaEp))
            Assert.Throws<NotSupportedException>(() => OnnxRuntimeBackend.Open(model, new OnnxRuntimeOptions { Device = "cuda:0" }));
    }
}
