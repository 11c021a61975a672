// esbuild bundles CSS imported from the entry points into a sibling .css file.
declare module '*.css';
