import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildSegmentArgs, drawtext, XFADE_NAMES, type TextLayer } from './segment.js';

const ENCODE_TAIL = (frames: number, out: string): string[] => [
  '-map', '[v]', '-an', '-frames:v', String(frames), '-r', '30',
  '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-pix_fmt', 'yuv420p', '-profile:v', 'high',
  '-g', '60', '-sc_threshold', '0', '-threads', '0', '-video_track_timescale', '90000', '-f', 'mp4', out,
];
const HEAD = ['-hide_banner', '-nostdin', '-y', '-loglevel', 'error', '-progress', 'pipe:1', '-nostats'];
const title: TextLayer = {
  textFile: '/c/t.txt', fontFile: '/f/b.ttf', fontSize: 92, color: '0xffffff', x: '(w-text_w)/2', y: 'h/2',
  fromSec: 0.15, toSec: 5, fadeInSec: 0.5, box: false, borderPx: 5,
};
const encode = { preset: 'veryfast', crf: 20, threads: 0 };

test('a colour body with a title and a boxed caption', () => {
  const args = buildSegmentArgs({
    width: 1280, height: 720, fps: 30,
    scene: { scene: { background: { kind: 'color', color: '0x112233' }, titles: [title], motionSec: 3.4 }, localStartSec: 0, frames: 84 },
    transition: 'none',
    captions: [{ ...title, textFile: '/c/c0.txt', fromSec: 0.35, toSec: 1.5, fadeInSec: 0, box: true, borderPx: 0, y: 'h-72-text_h' }],
    encode,
    outPath: '/c/seg.mp4',
  });
  assert.deepEqual(args, [
    ...HEAD,
    '-filter_complex',
    'color=c=0x112233:s=1280x720:r=30:d=2.8,format=yuv420p,setsar=1,trim=end_frame=84[bbg];' +
      "[bbg]drawtext=fontfile='/f/b.ttf':textfile='/c/t.txt':fontsize=92:fontcolor=0xffffff:x='(w-text_w)/2':y='h/2':line_spacing=23:" +
      "alpha='clip((t-0.15)/0.5,0,1)':expansion=none:enable='between(t,0.15,5)':borderw=5:bordercolor=0x000000@0.85[b];" +
      "[b]drawtext=fontfile='/f/b.ttf':textfile='/c/c0.txt':fontsize=92:fontcolor=0xffffff:x='(w-text_w)/2':y='h-72-text_h':line_spacing=23:" +
      "alpha='1':expansion=none:enable='between(t,0.35,1.5)':box=1:boxcolor=0x000000@0.6:boxborderw=32,format=yuv420p[v]",
    ...ENCODE_TAIL(84, '/c/seg.mp4'),
  ]);
});

test('a cross-fade from a panned still into a looped video, with a logo', () => {
  const args = buildSegmentArgs({
    width: 1280, height: 720, fps: 30,
    incoming: { scene: { background: { kind: 'still', path: '/c/g.png', motion: 'pan-left' }, motionSec: 3.4 }, localStartSec: 2.8, frames: 12 },
    scene: { scene: { background: { kind: 'video', path: '/v.mp4', startSec: 1 }, motionSec: 4 }, localStartSec: -0.2, frames: 90 },
    transition: 'xfade',
    captions: [],
    logo: { path: '/l.png', widthPx: 180, x: 'main_w-overlay_w-77', y: '58' },
    encode,
    outPath: '/c/t.mp4',
  });
  const p = 'clip((t+2.8)/3.4,0,1)';
  assert.deepEqual(args, [
    ...HEAD,
    '-framerate', '30', '-i', '/c/g.png', '-stream_loop', '-1', '-ss', '0.8', '-i', '/v.mp4', '-i', '/l.png',
    '-filter_complex',
    `[0:v]scale=1536:864,format=yuv420p,loop=loop=11:size=1:start=0,settb=1/30,setpts=N,crop=1280:720:x='(iw-ow)*(1-${p})':y='(ih-oh)*(0.35+0.3*${p})',setsar=1[a];` +
      '[1:v]scale=1280:720:force_original_aspect_ratio=increase,crop=1280:720,fps=30,format=yuv420p,setsar=1,trim=end_frame=90,setpts=PTS-STARTPTS[b];' +
      '[b]split[bh][bt];[bh]trim=end_frame=12[bh2];[bt]trim=start_frame=12,setpts=PTS-STARTPTS[bt2];' +
      '[a][bh2]xfade=transition=fade:duration=0.4:offset=0,format=yuv420p[xh];[xh][bt2]concat=n=2:v=1:a=0[x];' +
      '[2:v]scale=180:-1,format=rgba[logo];[x][logo]overlay=x=main_w-overlay_w-77:y=58[lg];[lg]format=yuv420p[v]',
    ...ENCODE_TAIL(90, '/c/t.mp4'),
  ]);
});

test('a dip to black joins the two halves and counts both', () => {
  const args = buildSegmentArgs({
    width: 640, height: 360, fps: 30,
    incoming: { scene: { background: { kind: 'color', color: '0x000000' }, motionSec: 2 }, localStartSec: 1.8, frames: 6 },
    scene: { scene: { background: { kind: 'still', path: '/s.png', motion: 'zoom-in' }, motionSec: 3 }, localStartSec: 0, frames: 6 },
    transition: 'dip',
    captions: [],
    encode,
    outPath: '/o.mp4',
  });
  const graph = args[args.indexOf('-filter_complex') + 1] ?? '';
  assert.match(graph, /\[a\]fade=t=out:st=0:d=0\.2\[ao\];\[b\]fade=t=in:st=0:d=0\.2\[bi\];\[ao\]\[bi\]concat=n=2:v=1:a=0\[x\]/);
  assert.match(graph, /\[0:v\]scale=768:432,zoompan=z='1\+0\.12\*clip\(\(on\/30\+0\)\/3,0,1\)':.*:d=6:s=640x360:fps=30/);
  assert.equal(args[args.indexOf('-frames:v') + 1], '12');
});

test('a path that cannot be quoted safely is refused', () => {
  assert.throws(
    () =>
      buildSegmentArgs({
        width: 640, height: 360, fps: 30,
        scene: { scene: { background: { kind: 'color', color: '0x000000' }, titles: [{ ...title, textFile: "/it's.txt" }], motionSec: 2 }, localStartSec: 0, frames: 6 },
        transition: 'none', captions: [], encode, outPath: '/o.mp4',
      }),
    /remove quotes/,
  );
});

test('a 14-frame cross-fade out of a colour at 30 fps: the colour branch ends on its frame count', () => {
  // d=0.467 alone gives 15 frames; xfade then waits for a 15th frame of [bh2] that trim never sends,
  // while concat waits for xfade to end (a hang). trim=end_frame makes the branch exactly 14 frames.
  const args = buildSegmentArgs({
    width: 854, height: 480, fps: 30,
    incoming: { scene: { background: { kind: 'color', color: '0x1e3a8a' }, motionSec: 2.2 }, localStartSec: 1.767, frames: 14 },
    scene: { scene: { background: { kind: 'still', path: '/c/g.png', motion: 'none' }, motionSec: 2.6 }, localStartSec: -0.233, frames: 64 },
    transition: 'xfade',
    captions: [],
    encode,
    outPath: '/c/s2.mp4',
  });
  assert.deepEqual(args, [
    ...HEAD,
    '-framerate', '30', '-i', '/c/g.png',
    '-filter_complex',
    'color=c=0x1e3a8a:s=854x480:r=30:d=0.467,format=yuv420p,setsar=1,trim=end_frame=14[a];' +
      "[0:v]scale=1024:576,format=yuv420p,loop=loop=63:size=1:start=0,settb=1/30,setpts=N,crop=854:480:x='(iw-ow)/2':y='(ih-oh)/2',setsar=1[b];" +
      '[b]split[bh][bt];[bh]trim=end_frame=14[bh2];[bt]trim=start_frame=14,setpts=PTS-STARTPTS[bt2];' +
      '[a][bh2]xfade=transition=fade:duration=0.467:offset=0,format=yuv420p[xh];[xh][bt2]concat=n=2:v=1:a=0[x];' +
      '[x]format=yuv420p[v]',
    ...ENCODE_TAIL(64, '/c/s2.mp4'),
  ]);
});

test('a dip out of a colour and into a colour: both colour branches end on their frame counts', () => {
  const args = buildSegmentArgs({
    width: 640, height: 360, fps: 30,
    incoming: { scene: { background: { kind: 'color', color: '0x064e3b' }, motionSec: 2.2 }, localStartSec: 1.767, frames: 14 },
    scene: { scene: { background: { kind: 'color', color: '0x7c2d12' }, motionSec: 2.2 }, localStartSec: 0, frames: 53 },
    transition: 'dip',
    captions: [],
    encode,
    outPath: '/c/s3.mp4',
  });
  assert.deepEqual(args, [
    ...HEAD,
    '-filter_complex',
    'color=c=0x064e3b:s=640x360:r=30:d=0.467,format=yuv420p,setsar=1,trim=end_frame=14[a];' +
      'color=c=0x7c2d12:s=640x360:r=30:d=1.767,format=yuv420p,setsar=1,trim=end_frame=53[b];' +
      '[a]fade=t=out:st=0:d=0.467[ao];[b]fade=t=in:st=0:d=0.467[bi];[ao][bi]concat=n=2:v=1:a=0[x];' +
      '[x]format=yuv420p[v]',
    ...ENCODE_TAIL(67, '/c/s3.mp4'),
  ]);
});

test('a named transition is drawn with its xfade name, only over the transition frames', () => {
  const plan = {
    width: 640, height: 360, fps: 24,
    incoming: { scene: { background: { kind: 'color' as const, color: '0x7c2d12' }, motionSec: 2 }, localStartSec: 1.5, frames: 12 },
    scene: { scene: { background: { kind: 'color' as const, color: '0x1e3a8a' }, motionSec: 2 }, localStartSec: -0.25, frames: 48 },
    transition: 'xfade' as const,
    captions: [],
    encode,
    outPath: '/c/w.mp4',
  };
  const graph = (args: string[]): string => args[args.indexOf('-filter_complex') + 1] ?? '';
  assert.match(graph(buildSegmentArgs({ ...plan, xfade: 'wipeleft' })), /\[a\]\[bh2\]xfade=transition=wipeleft:duration=0\.5:offset=0,format=yuv420p\[xh\]/);
  assert.match(graph(buildSegmentArgs(plan)), /xfade=transition=fade:/, 'the cross-fade by default');
  assert.equal(new Set(Object.values(XFADE_NAMES)).size, Object.keys(XFADE_NAMES).length, 'every name is its own transition');
});

test('image layers are looped stills overlaid in order under the titles, timed in the scene clock', () => {
  const args = buildSegmentArgs({
    width: 640, height: 360, fps: 30,
    scene: {
      scene: {
        background: { kind: 'color', color: '0x000000' },
        images: [
          { path: '/c/pip.png', x: 'main_w-overlay_w-20', y: '20+40*(1-clip(t/0.5,0,1))', fromSec: 0.5, toSec: 4, fadeInSec: 0.4, fadeOutSec: 0.3 },
          { path: '/c/icon.png', x: '100', y: '100', fromSec: 0, toSec: 6, fadeInSec: 0, fadeOutSec: 0 },
        ],
        titles: [title],
        motionSec: 6,
      },
      // The segment starts 1 s into the scene: the fades move 1 s earlier in the chain's clock.
      localStartSec: 1,
      frames: 90,
    },
    transition: 'none',
    captions: [],
    encode,
    outPath: '/c/seg.mp4',
  });
  const graph = args[args.indexOf('-filter_complex') + 1] as string;
  // Each image is decoded once and repeated in the graph for the range's 90 frames.
  assert.deepEqual(args.slice(HEAD.length, HEAD.length + 5), ['-i', '/c/pip.png', '-i', '/c/icon.png', '-filter_complex']);
  assert.match(graph, /\[0:v\]format=rgba,loop=loop=89:size=1:start=0,settb=1\/30,setpts=N,fade=t=in:st=0:d=0.4:alpha=1,fade=t=out:st=2.7:d=0.3:alpha=1,null\[bim0\]/);
  assert.match(graph, /\[bbg\]\[bim0\]overlay=x='main_w-overlay_w-20':y='20\+40\*\(1-clip\(\(t\+1\)\/0.5,0,1\)\)':eval=frame:enable='between\(\(t\+1\),0.5,4\)'\[bi0\]/);
  assert.match(graph, /\[bi0\]\[bim1\]overlay=x='100':y='100':eval=frame:enable='between\(\(t\+1\),0,6\)'\[bi1\];\[bi1\]drawtext=/);
});

test('a text entrance moves the resting position by the eased distance still to go, and a fade-out ends at toSec', () => {
  const rest = 'pow(1-clip(((t+-0.2)-0.3)/0.6,0,1),3)';
  const up = drawtext({ ...title, x: '100', y: '200-ascent', fromSec: 0.3, toSec: 4, fadeInSec: 0.35, fadeOutSec: 0.4, enter: { kind: 'slide-up', sec: 0.6, px: 40 } }, -0.2);
  assert.match(up, new RegExp(`:x='100':y='200-ascent\\+40\\*${rest.replace(/[()*+.]/g, '\\$&')}':`));
  assert.ok(up.includes("alpha='min(clip(((t+-0.2)-0.3)/0.35,0,1),clip((4-(t+-0.2))/0.4,0,1))'"), up);
  const left = drawtext({ ...title, x: '100', y: '200', fromSec: 0.3, toSec: 4, fadeInSec: 0, enter: { kind: 'slide-left', sec: 0.6, px: 90 } });
  assert.ok(left.includes("x='100+90*pow(1-clip((t-0.3)/0.6,0,1),3)'"), left);
  assert.ok(left.includes("alpha='1'"), left);
  const scale = drawtext({ ...title, x: '640-text_w/2', y: '300-ascent', fromSec: 0, toSec: 4, fadeInSec: 0.3, enter: { kind: 'scale', sec: 0.5, px: 35 } });
  assert.ok(scale.includes("fontsize='92*(1-0.35*pow(1-clip((t-0)/0.5,0,1),3))'"), scale);
  assert.ok(scale.includes("y='300-ascent-32.2*0.35*pow(1-clip((t-0)/0.5,0,1),3)'"), scale);
});

test('only a counter\'s text is expanded; a box and an outline take their own colours', () => {
  assert.ok(drawtext({ ...title, expand: true }).includes(':expansion=normal:'));
  assert.ok(drawtext(title).includes(':expansion=none:'));
  const boxed = drawtext({ ...title, box: true, boxColor: '0x2563eb@0.92', boxPx: 12, borderPx: 0 });
  assert.ok(boxed.endsWith(':box=1:boxcolor=0x2563eb@0.92:boxborderw=12'), boxed);
  assert.ok(drawtext({ ...title, borderColor: '0xffffff@0.85' }).endsWith(':borderw=5:bordercolor=0xffffff@0.85'));
});
