using Strix.Cli;
using Strix.Cli.Commands;
using Strix.Data;

namespace Strix.Tests.Data;

[Collection("Console output")] // these tests redirect Console.Out: not in parallel with each other
public class DataCommandTests
{
    [Fact]
    public void CheckPrintsSummaryAndWritesPlots()
    {
        var root = TestPaths.NewTempDir();
        var yaml = DataFixtures.Rectangles(root, 6);
        var project = Path.Combine(root, "runs");
        var output = new StringWriter();
        var old = Console.Out;
        int rc;
        try
        {
            Console.SetOut(output);
            rc = new DataCommand().Run(new[] { "check", $"data={yaml}", "imgsz=96", "batch=4", "workers=2", $"project={project}", "name=x" });
        }
        finally { Console.SetOut(old); }
        Assert.Equal(0, rc);
        var text = output.ToString();
        Assert.Contains("train: 6 images with labels, 0 backgrounds, 0 corrupt", text);
        Assert.Contains("c0", text); // per-class table
        foreach (var f in new[] { "labels.jpg", "train_batch0.jpg" })
        {
            var img = ImageIO.Load(Path.Combine(project, "x", f));
            Assert.True(img.Width > 100);
        }
    }

    [Fact]
    public void UnknownArgumentsAreRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => new DataCommand().Run(new[] { "check", "data=x.yaml", "imgsize=64" }));
        Assert.Contains("imgsize", e.Message);
    }
}
