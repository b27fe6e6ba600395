using Strix.Cli;
using Strix.Cli.Commands;
using Strix.Tests.Distributed;

namespace Strix.Tests.Cli;

/// <summary>Every command checks its arguments the same way, before any work: the message names the argument and the bad value.</summary>
[Collection("Console output")] // these tests redirect Console.Out: not in parallel with each other
public class CommandArgumentTests
{
    static ICommand Command(string name) => name switch
    {
        "train" => new TrainCommand(), "val" => new ValCommand(), "predict" => new PredictCommand(),
        "export" => new ExportCommand(), "info" => new InfoCommand(), "data" => new DataCommand(),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [InlineData("info imgsz=0", "imgsz=0 must be between 32 and 16384")]
    [InlineData("info imgsz=65536", "imgsz=65536 must be between 32 and 16384")]
    [InlineData("info nc=0", "nc=0 must be ≥ 1")]
    [InlineData("predict source=x.jpg imgsz=0", "imgsz=0 must be between")]
    [InlineData("predict source=x.jpg conf=2", "conf=2 must be in [0, 1]")]
    [InlineData("predict source=x.jpg conf=-1", "conf=-1 must be in [0, 1]")]
    [InlineData("predict source=x.jpg iou=5", "iou=5 must be in (0, 1]")]
    [InlineData("predict source=x.jpg max_det=-1", "max_det=-1 must be ≥ 1")]
    [InlineData("predict source=x.jpg classes=[0,-2]", "class ids are ≥ 0")]
    [InlineData("predict conf=0.5", "missing argument 'source=…'")]
    [InlineData("val model=a.safetensors data=b.yaml conf=2", "conf=2 must be in [0, 1]")]
    [InlineData("val model=a.safetensors data=b.yaml batch=0", "batch=0 must be ≥ 1")]
    [InlineData("val data=b.yaml", "missing argument 'model=…'")]
    [InlineData("train epochs=0", "epochs=0 must be ≥ 1")]
    [InlineData("train imgsz=33", "imgsz=33 must be a multiple of 32")]
    [InlineData("train lr0=-1", "lr0=-1 must be > 0")]
    [InlineData("train mosaic=2", "mosaic=2 must be a probability")]
    [InlineData("train epochs=ten", "epochs=ten is not an integer")]
    [InlineData("train data=shapes epoch=3", "'epoch' is not a valid train argument (did you mean 'epochs'?)")]
    [InlineData("export model=yolov8n imgsz=0", "imgsz=0 must be between")]
    [InlineData("export model=yolov8n opset=99", "opset=99 is not supported")]
    [InlineData("data check data=x.yaml imgsz=10", "imgsz=10 must be between")]
    public void Bad_arguments_are_refused_naming_the_argument(string line, string message)
    {
        var words = line.Split(' ');
        var e = Assert.Throws<ArgumentException>(() => Command(words[0]).Run(words.Skip(1).ToList()));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Info_rounds_an_image_size_to_the_stride_instead_of_failing_in_native_code()
    {
        var output = new StringWriter();
        var old = Console.Out;
        int rc;
        try { Console.SetOut(output); rc = new InfoCommand().Run(new[] { "model=yolov8n", "imgsz=33" }); }
        finally { Console.SetOut(old); }
        Assert.Equal(0, rc);
        Assert.Contains("imgsz=33 must be a multiple of max stride 32, updating to 64", output.ToString());
    }

    /// <summary>The strix process turns a refused argument into one line on stderr and exit code 2, without a stack trace.</summary>
    [Fact]
    public void The_process_exits_2_with_one_line()
    {
        var r = MpiRun.RunSingle(MpiRun.CliDll(), TimeSpan.FromMinutes(1), "predict", "source=x.jpg", "conf=2");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("strix predict: conf=2 must be in [0, 1]", r.StdErr.Trim());
        Assert.DoesNotContain("   at ", r.StdOut + r.StdErr);
    }
}

/// <summary>Folders that cannot be written and damaged checkpoints end a command with one line and exit 2, never a crash.</summary>
public class CommandFailureTests
{
    [Fact]
    public void An_unwritable_output_folder_is_one_line_naming_it()
    {
        var dir = TestPaths.NewTempDir();
        var blocker = Path.Combine(dir, "blocker"); // a file where a folder should be: no user can write under it
        File.WriteAllText(blocker, "");
        var limit = TimeSpan.FromMinutes(2);
        var export = MpiRun.RunSingle(MpiRun.CliDll(), limit, "export", "model=yolov8n", $"output={Path.Combine(blocker, "x.onnx")}");
        Assert.Equal(2, export.ExitCode);
        Assert.StartsWith("strix export: ", export.StdErr.Trim());
        Assert.Contains(blocker, export.StdErr);
        Assert.DoesNotContain("   at ", export.StdOut + export.StdErr);
        var predict = MpiRun.RunSingle(MpiRun.CliDll(), limit, "predict", "model=yolov8n", $"source={blocker}", $"project={Path.Combine(blocker, "runs")}");
        Assert.Equal(2, predict.ExitCode);
        Assert.DoesNotContain("   at ", predict.StdOut + predict.StdErr);
        Assert.Equal(new[] { blocker }, Directory.GetFileSystemEntries(dir)); // nothing left behind (no temp files)
    }

    [Fact]
    public void A_checkpoint_with_damaged_arguments_cannot_be_resumed_and_says_why()
    {
        var dir = TestPaths.NewTempDir();
        var path = Path.Combine(dir, "last.safetensors");
        using (var m = new Strix.Models.DetectionModel(TinyModelsScale, 2))
            Strix.IO.Safetensors.Save(path, m.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value), new Dictionary<string, string> { ["args"] = "{\"epochs\": [1, 2" });
        var e = Assert.Throws<InvalidDataException>(() => Strix.Tasks.YoloTraining.Run(
            Strix.Config.ConfigRecords.Parse<Strix.Config.TrainConfig>(new[] { $"resume={path}" }), TextWriter.Null));
        Assert.Contains(path, e.Message);
        Assert.Contains("training arguments are damaged", e.Message);
    }

    static readonly Strix.Models.YoloScale TinyModelsScale = new("t", 0.33, 0.0625, 256);
}
