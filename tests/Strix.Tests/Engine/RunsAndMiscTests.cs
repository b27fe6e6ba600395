using Strix.Engine;
using Strix.IO;
using Strix.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Strix.Tests.Engine;

public class RunsAndMiscTests
{
    [SkippableFact]
    public void Run_folders_increment_like_ultralytics()
    {
        var project = TestPaths.NewTempDir();
        var a = RunDirectory.Create(project, "train");
        var b = RunDirectory.Create(project, "train");
        var c = RunDirectory.Create(project, "train");
        var same = RunDirectory.Create(project, "train", existOk: true);
        Assert.Equal(new[] { "train", "train2", "train3", "train" }, new[] { a, b, c, same }.Select(Path.GetFileName));
        Assert.True(Directory.Exists(Path.Combine(b, "weights")));
    }

    [SkippableFact]
    public void Args_yaml_lists_every_argument_in_order()
    {
        var dir = TestPaths.NewTempDir();
        RunDirectory.WriteArgs(dir, new Dictionary<string, object?> { ["task"] = "detect", ["epochs"] = 3, ["lr0"] = 0.01, ["cos_lr"] = false, ["project"] = null });
        var text = File.ReadAllText(Path.Combine(dir, "args.yaml"));
        Assert.StartsWith("task: detect", text);
        var back = RunDirectory.ReadArgs(Path.Combine(dir, "args.yaml"));
        Assert.Equal(new[] { "task", "epochs", "lr0", "cos_lr", "project" }, back.Keys);
        Assert.Equal("0.01", back["lr0"]);
    }

    [SkippableTheory]
    [InlineData("10", 100, 10)]
    [InlineData("0.25", 100, 25)]
    [InlineData("1.0", 7, 7)]
    [InlineData("1", 7, 1)]
    [InlineData("0.01", 7, 1)]
    [InlineData("0", 7, 0)]
    public void Batch_limits_are_counts_or_fractions(string text, int available, int used) =>
        Assert.Equal(used, BatchLimit.Parse(text).Apply(available));

    [SkippableFact]
    public void StrixRandom_state_round_trips()
    {
        var r = new StrixRandom(42);
        for (int i = 0; i < 10; i++) r.NextUInt64();
        var state = r.GetState();
        var expected = Enumerable.Range(0, 5).Select(_ => r.NextDouble()).ToArray();
        var q = new StrixRandom(0);
        q.SetState(state);
        Assert.Equal(expected, Enumerable.Range(0, 5).Select(_ => q.NextDouble()));
        Assert.All(Enumerable.Range(0, 1000).Select(_ => r.NextInt(7)), v => Assert.InRange(v, 0, 6));
    }

    [SkippableTheory]
    [InlineData("cpu")]
    [InlineData("CPU")]
    public void Cpu_device_parses(string spec) => Assert.Equal(DeviceType.CPU, Devices.Parse(spec).type);

    [SkippableFact]
    public void Cuda_without_a_gpu_is_a_clear_error()
    {
        Requires.NoCuda("device=0 must be refused without a GPU (on a GPU machine it is valid)");
        var e = Assert.Throws<ArgumentException>(() => Devices.Parse("0"));
        Assert.Contains("CUDA", e.Message);
        Assert.Throws<ArgumentException>(() => Devices.Parse("0,1"));
    }

    [SkippableFact]
    public void Checkpoint_round_trips_weights_state_and_metadata()
    {
        var dir = TestPaths.NewTempDir();
        var path = Path.Combine(dir, "c.safetensors");
        using (var ck = new Checkpoint())
        {
            ck.Weights["model.0.conv.weight"] = ones(2, 3);
            ck.OptimizerState["model.0.conv.weight/momentum_buffer"] = full(new long[] { 2, 3 }, 0.5f);
            ck.TorchRngState = random.get_rng_state();
            ck.Trainer = new() { ["resumable"] = true, ["epoch"] = 3 };
            ck.Metadata["names"] = "{\"0\": \"cat\"}";
            ck.Save(path);
        }
        using var back = Checkpoint.Load(path);
        Assert.True(back.IsResumable);
        Assert.Equal(3, (int)back.Trainer["epoch"]!);
        Assert.Equal(new long[] { 2, 3 }, back.Weights["model.0.conv.weight"].shape);
        Assert.Equal(0.5f, back.OptimizerState["model.0.conv.weight/momentum_buffer"][1, 2].item<float>());
        Assert.NotNull(back.TorchRngState);
        Assert.Equal("{\"0\": \"cat\"}", back.Metadata["names"]);
        // The deployable weights are plain safetensors entries under their state-dict names.
        using var raw = Safetensors.Load(path);
        Assert.Contains(raw.Tensors, kv => kv.Key == "model.0.conv.weight");
    }
}
