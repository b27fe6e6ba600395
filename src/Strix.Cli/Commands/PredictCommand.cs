using Strix.IO;
using System.Globalization;
using Strix.Data;
using Strix.Config;
using Strix.Engine;
using Strix.Inference;

namespace Strix.Cli.Commands;

/// <summary>
/// <c>strix predict model=… source=file|dir|glob conf=0.25 iou=0.7 imgsz=640 save=true save_txt=true</c>:
/// annotated images and YOLO-format labels in <c>runs/detect/predict*/</c>.
/// </summary>
public sealed class PredictCommand : ICommand
{
    public string Name => "predict";
    public string Summary => "detect objects in images (model=… source=file|dir|glob conf=0.25 iou=0.7 imgsz=640 save=true save_txt=false)";

    public int Run(IReadOnlyList<string> args)
    {
        var c = ConfigRecords.Parse<PredictConfig>(args);
        var options = c.ToOptions();
        var (model, source, save, saveTxt, saveConf) = (c.Model, c.Source!, c.Save, c.SaveTxt, c.SaveConf);
        var (device, project, name, existOk) = (c.Device, c.Project, c.Name, c.ExistOk);

        using var yolo = Yolo.Load(model, device, Console.WriteLine);
        var paths = ImageSources.Expand(source);
        if (paths.Count == 0) throw new FileNotFoundException($"source={source}: no images found (extensions: {string.Join(", ", ImageIO.ImageExtensions)})");
        string? runDir = save || saveTxt ? RunDirectory.Create(project, name, existOk, withWeights: false) : null;
        if (saveTxt) Directory.CreateDirectory(Path.Combine(runDir!, "labels"));

        var predictor = yolo.Predictor(options);
        int failed = 0;
        predictor.OnError = (p, e) => { failed++; Console.Error.WriteLine($"WARNING ⚠️ {e.Message}"); };
        int i = 0, done = 0;
        double pre = 0, inf = 0, post = 0;
        foreach (var r in predictor.Predict(paths))
        {
            i++; done++;
            pre += r.Speed.Preprocess; inf += r.Speed.Inference; post += r.Speed.Postprocess;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"image {i}/{paths.Count} {r.Path}: {r.OrigWidth}x{r.OrigHeight} {r.Summary()}, {r.Speed.Inference:F1}ms"));
            var stem = Path.GetFileNameWithoutExtension(r.Path)!;
            if (save) r.Save(Path.Combine(runDir!, Path.GetFileName(r.Path)!));
            if (saveTxt) AtomicFile.WriteAllText(Path.Combine(runDir!, "labels", stem + ".txt"), r.ToTxt(saveConf));
        }
        if (done > 0)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Speed: {pre / done:F1}ms preprocess, {inf / done:F1}ms inference, {post / done:F1}ms postprocess per image"));
        if (runDir is not null) Console.WriteLine($"Results saved to {Path.GetRelativePath(Environment.CurrentDirectory, runDir)}");
        if (failed > 0) Console.Error.WriteLine($"{failed} of {paths.Count} source(s) could not be read (see warnings above)");
        return done == 0 ? 1 : 0;
    }
}
