using Strix.Cli;
using Strix.Cli.Commands;
using Strix.Data;
using Strix.Inference.Sources;

namespace Strix.Tests.Cli;

/// <summary><c>strix predict</c> and <c>strix track</c> on a generated video: lines per frame, the annotated video, labels per frame, counts.</summary>
[Collection("Console output")]
public class VideoCommandTests
{
    static string WriteClip(string dir, int frames)
    {
        using var clip = new ShapesClip(new ShapesClipOptions { Frames = frames });
        var path = Path.Combine(dir, "clip.mp4");
        using var sink = new VideoSink(path, clip.Options.Fps, 320, 240);
        foreach (var f in clip.Frames()) sink.Write(f);
        sink.Complete();
        return path;
    }

    static (int Rc, string Out) Run(ICommand command, params string[] args)
    {
        var output = new StringWriter();
        var old = Console.Out;
        try { Console.SetOut(output); return (command.Run(args), output.ToString()); }
        finally { Console.SetOut(old); }
    }

    [SkippableFact]
    public void Track_writes_the_annotated_video_labels_per_frame_and_counts()
    {
        Requires.Video();
        var dir = TestPaths.NewTempDir("strix-track-cli");
        var video = WriteClip(dir, 12);
        var project = Path.Combine(dir, "runs");
        var (rc, output) = Run(new TrackCommand(), "model=yolov8n", $"source={video}", "imgsz=64", "save_txt=true",
            "region=160,0,160,240", $"project={project}", "tracker=botsort.yaml");
        Assert.Equal(0, rc);
        Assert.Contains($"video 1/1 (frame 1/12) {video}: 320x240", output);
        Assert.Contains($"video 1/1 (frame 12/12) {video}: 320x240", output);
        Assert.Contains("in 0, out 0", output);
        var run = Path.Combine(project, "track");
        using (var saved = FrameSources.Open(Path.Combine(run, "clip.mp4")))
        {
            Assert.Equal(12, saved.FrameCount);
            Assert.Equal(25, saved.Fps, 3);
            Assert.Equal(12, saved.ReadFrames().Count());
        }
        Assert.Equal(Enumerable.Range(0, 12).Select(i => $"clip_{i}.txt"), Directory.GetFiles(Path.Combine(run, "labels")).Select(Path.GetFileName).OrderBy(n => int.Parse(n![5..^4])));
        Assert.DoesNotContain(Directory.GetFiles(run), f => f.Contains(".tmp"));
    }

    [SkippableFact]
    public void Predict_on_a_folder_mixing_images_and_videos_saves_both_and_honours_vid_stride()
    {
        Requires.Video();
        var dir = TestPaths.NewTempDir("strix-predict-video");
        var media = Directory.CreateDirectory(Path.Combine(dir, "media")).FullName;
        WriteClip(media, 9);
        using (var still = new ShapesClip()) ImageIO.Save(still.Render(3), Path.Combine(media, "still.jpg"));
        var project = Path.Combine(dir, "runs");
        var (rc, output) = Run(new PredictCommand(), "model=yolov8n", $"source={media}", "imgsz=64", "vid_stride=4", "save_frames=true", $"project={project}");
        Assert.Equal(0, rc);
        Assert.Contains("image 1/1", output);
        Assert.Contains("(frame 1/9)", output);
        Assert.Contains("(frame 5/9)", output);
        Assert.Contains("(frame 9/9)", output);
        Assert.DoesNotContain("(frame 2/9)", output);
        var run = Path.Combine(project, "predict");
        Assert.True(File.Exists(Path.Combine(run, "still.jpg")));
        using (var saved = FrameSources.Open(Path.Combine(run, "clip.mp4")))
        {
            Assert.Equal(3, saved.ReadFrames().Count());
            Assert.Equal(25.0 / 4, saved.Fps, 2);   // a strided video keeps its duration
        }
        Assert.Equal(new[] { "clip_0.jpg", "clip_4.jpg", "clip_8.jpg" }, Directory.GetFiles(Path.Combine(run, "clip_frames")).Select(Path.GetFileName).OrderBy(n => n));
    }

    [Theory]
    [InlineData("predict", "vid_stride=0", "vid_stride=0 must be ≥ 1")]
    [InlineData("predict", "show=true", "show=true: Strix has no display window")]
    [InlineData("track", "region=1,2,3", "region=1,2,3: expected x1,y1,x2,y2")]
    public void Video_arguments_are_checked_before_any_work(string command, string arg, string message)
    {
        ICommand c = command == "track" ? new TrackCommand() : new PredictCommand();
        var e = Assert.Throws<ArgumentException>(() => c.Run(new[] { "source=x.mp4", arg }));
        Assert.Contains(message, e.Message);
    }
}
