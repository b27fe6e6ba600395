using Strix.Config;
using Strix.Models;

namespace Strix.Cli.Commands;

/// <summary><c>strix info model=yolov8n imgsz=640</c>: the layer table, parameter count and GFLOPs (model= may be a .safetensors, .pt or .onnx file).</summary>
public sealed class InfoCommand : ICommand
{
    public string Name => "info";
    public string Summary => "print a model's layers, parameters and GFLOPs (model=yolov8n imgsz=640 nc=80)";

    public int Run(IReadOnlyList<string> args)
    {
        var c = ConfigRecords.Parse<InfoConfig>(args);
        var (modelArg, imgsz, nc, fuse) = (c.Model, c.ImgSz, c.Nc, c.Fuse);

        using var loaded = ModelLoader.Load(modelArg, nc, Console.WriteLine);
        var model = loaded.Model;
        imgsz = ArgChecks.RoundToStride(imgsz, model.MaxStride, Console.WriteLine); // the model needs a multiple of its stride
        Console.WriteLine(ModelSummary.Table(model));
        if (fuse) model.Fuse();
        double gflops = ModelProfiler.GFlops(model, imgsz, imgsz);
        Console.WriteLine(ModelSummary.Line(model, gflops, imgsz));
        Console.WriteLine($"classes ({model.NumClasses}): {string.Join(", ", loaded.Metadata.Names.Take(10))}{(model.NumClasses > 10 ? ", …" : "")}");
        return 0;
    }
}
