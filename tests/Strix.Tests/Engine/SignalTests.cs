using System.Diagnostics;
using Strix.Engine;
using Strix.Models;

namespace Strix.Tests.Engine;

/// <summary>Child-process tests run alone, so a loaded machine does not starve the child and time them out.</summary>
[CollectionDefinition("child-processes", DisableParallelization = true)]
public sealed class ChildProcessCollection { }

/// <summary>`strix train` as a child process: SIGINT saves a resumable checkpoint and exits cleanly; SIGKILL leaves last intact.</summary>
[Collection("child-processes")]
public class SignalTests
{
    static (Process Process, StringWriter Output) StartTraining(string dir)
    {
        using var m = new DetectionModel(new YoloScale("tiny", 0.33, 0.125, 256), 80);
        var model = Path.Combine(dir, "tiny.safetensors");
        WeightsFile.Save(m, model, ModelMetadata.For(m));
        var cli = Path.Combine(AppContext.BaseDirectory, "Strix.Cli.dll");
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = dir,
        };
        foreach (var a in new[] { cli, "train", $"data={TestPaths.Asset("coco8.yaml")}", $"model={model}", "imgsz=160", "batch=2",
                     "epochs=100", "workers=0", $"project={Path.Combine(dir, "runs")}", "plots=false", "val=false", "nbs=2" })
            psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        var output = new StringWriter();
        p.OutputDataReceived += (_, e) => { lock (output) output.WriteLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { lock (output) output.WriteLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return (p, output);
    }

    static void WaitFor(Func<bool> condition, Process p, StringWriter output, int seconds = 120)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (p.HasExited) Assert.Fail($"strix train exited early ({p.ExitCode}):\n{output}");
            if (sw.Elapsed.TotalSeconds > seconds) { p.Kill(true); Assert.Fail($"timed out:\n{output}"); }
            Thread.Sleep(100);
        }
    }

    static void Signal(Process p, string signal) => Process.Start("kill", new[] { "-" + signal, p.Id.ToString() })!.WaitForExit();

    [SkippableFact]
    public void Sigint_saves_a_resumable_checkpoint_and_exits_cleanly()
    {
        Requires.Linux("POSIX signals sent with kill(2)");
        var dir = TestPaths.NewTempDir();
        var (p, output) = StartTraining(dir);
        var last = Path.Combine(dir, "runs", "train", "weights", "last.safetensors");
        WaitFor(() => File.Exists(last), p, output);
        Signal(p, "INT");
        Assert.True(p.WaitForExit(180_000), $"did not exit after SIGINT:\n{output}");
        p.WaitForExit();
        Assert.Equal(130, p.ExitCode);
        var text = output.ToString();
        Assert.Contains("SIGINT received", text);
        Assert.Contains("resume with: strix train resume model=", text);
        using var ck = Checkpoint.Load(last);
        Assert.True(ck.IsResumable);
        Assert.True((long)ck.Trainer["global_step"]! >= 2);
    }

    [SkippableFact]
    public void Sigkill_at_any_moment_leaves_a_loadable_last()
    {
        Requires.Linux("POSIX signals sent with kill(2)");
        var dir = TestPaths.NewTempDir();
        var (p, output) = StartTraining(dir);
        var last = Path.Combine(dir, "runs", "train", "weights", "last.safetensors");
        WaitFor(() => File.Exists(last), p, output);
        var first = File.GetLastWriteTimeUtc(last);
        WaitFor(() => File.GetLastWriteTimeUtc(last) != first, p, output); // a second save has happened; the next one may be under way
        Thread.Sleep(Random.Shared.Next(0, 400));
        Signal(p, "KILL");
        p.WaitForExit();
        using var ck = Checkpoint.Load(last);
        Assert.True(ck.IsResumable);
    }
}
