using System.Diagnostics;
using System.Text.Json.Nodes;
using Strix.Engine;
using Strix.Engine.Profilers;

namespace Strix.Tests.Engine;

public class ProfilerTests
{
    static void Spin(TimeSpan t)
    {
        var sw = Stopwatch.StartNew();
        double x = 1;
        while (sw.Elapsed < t) x = Math.Sqrt(x + 1);
        GC.KeepAlive(x);
    }

    [Fact]
    public void Records_calls_wall_and_cpu_time_per_action()
    {
        var p = new SimpleProfiler();
        for (int i = 0; i < 3; i++)
            using (p.Profile("busy")) Spin(TimeSpan.FromMilliseconds(40));
        using (p.Profile("idle")) Thread.Sleep(120);

        var busy = p.Actions.Single(a => a.Action == "busy");
        var idle = p.Actions.Single(a => a.Action == "idle");
        Assert.Equal(3, busy.Calls);
        Assert.Equal(1, idle.Calls);
        Assert.InRange(busy.Wall.TotalMilliseconds, 120, 2000);
        Assert.InRange(busy.MeanWallMs, 40, 700);
        Assert.InRange(idle.Wall.TotalMilliseconds, 115, 2000);
        // Spinning keeps a core busy (CPU time is the process's: other test threads can only add to it).
        Assert.True(busy.Cpu.TotalMilliseconds > 0.3 * busy.Wall.TotalMilliseconds, $"busy CPU {busy.Cpu.TotalMilliseconds} ms of {busy.Wall.TotalMilliseconds} ms");
        Assert.True(idle.Cpu >= TimeSpan.Zero);
        Assert.True(p.Total >= busy.Wall + idle.Wall);
        Assert.Equal(new[] { "busy", "idle" }, p.Actions.Select(a => a.Action)); // order first started
    }

    [Fact]
    public void Nested_actions_are_each_timed_and_the_report_and_json_list_them()
    {
        var p = new SimpleProfiler();
        using (p.Profile("outer"))
        {
            Spin(TimeSpan.FromMilliseconds(10));
            using (p.Profile("outer/inner")) Spin(TimeSpan.FromMilliseconds(20));
        }
        var outer = p.Actions.Single(a => a.Action == "outer");
        var inner = p.Actions.Single(a => a.Action == "outer/inner");
        Assert.True(outer.Wall > inner.Wall);
        Assert.InRange(inner.Wall.TotalMilliseconds, 20, 1000);

        var text = p.Summary();
        Assert.Contains("Profiler Report", text);
        Assert.Contains("outer/inner", text);
        Assert.Contains("CPU (s)", text);

        var dir = TestPaths.NewTempDir();
        var path = Path.Combine(dir, "profile.json");
        new SimpleProfiler { OutputPath = path }.Write(); // an empty report is still valid JSON
        Assert.Empty(JsonNode.Parse(File.ReadAllText(path))!["actions"]!.AsArray());
        var json = p.ToJson();
        var actions = json["actions"]!.AsArray();
        Assert.Equal(2, actions.Count);
        Assert.Equal("outer", (string)actions[0]!["action"]!);
        Assert.Equal(1, (long)actions[1]!["calls"]!);
        Assert.Equal(Math.Round(inner.Wall.TotalMilliseconds, 3), (double)actions[1]!["wall_ms_total"]!, 3);
        Assert.Empty(Directory.GetFiles(dir, "*.tmp*"));
    }

    [Fact]
    public void Reset_forgets_what_was_recorded_and_the_synchronizer_runs_around_each_action()
    {
        int syncs = 0;
        var p = new SimpleProfiler(() => syncs++);
        using (p.Profile("warm-up")) { }
        Assert.Equal(2, syncs); // before and after
        p.Reset();
        Assert.Empty(p.Actions);
        using (p.Profile("step")) { }
        Assert.Equal("step", p.Actions.Single().Action);
    }

    [Fact]
    public void The_default_profiler_records_nothing()
    {
        Assert.False(Profiler.None.Enabled);
        Assert.Null(Profiler.None.Profile("x"));
        Assert.Equal("", Profiler.None.Summary());
    }

    [Fact]
    public void The_trainer_profiles_each_part_of_every_step()
    {
        TorchSharp.torch.manual_seed(3);
        var profiler = new SimpleProfiler();
        var trainer = EngineTest.Trainer(new TrainerOptions { MaxEpochs = 2, GradientClipVal = 10, Ema = true, Profiler = profiler });
        Assert.Same(profiler, trainer.Profiler);
        trainer.Fit(new PointClassifier(), new PointData(96, 16), new PointData(32, 16, shuffle: false)); // 6 batches per epoch
        var calls = profiler.Actions.ToDictionary(a => a.Action, a => a.Calls);
        foreach (var action in new[] { "get_train_batch", "transfer_batch_to_device", "training_step", "backward", "optimizer_step",
                     "optimizer_step/clip_gradients", "zero_grad", "ema_update" })
            Assert.Equal(12, calls[action]);
        Assert.Equal(2, calls["validation"]);
        Assert.Equal(2, calls["epoch_end"]);
        // The step's parts fit inside the total, and none is negative.
        var total = profiler.Total;
        foreach (var a in profiler.Actions) Assert.InRange(a.Wall, TimeSpan.Zero, total);
    }
}
